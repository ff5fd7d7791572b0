"""Fuzzing the file source with mutated real container bytes: clean errors only, never a hang."""

import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from realtime.sources.av_source import AvSource
from realtime.sources.base import SourceError
from realtime.sources.demo import render_face_frames, write_video

HANG_S = 30.0


@pytest.fixture(scope="module")
def seed_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    clip = write_video(tmp_path_factory.mktemp("fuzz") / "seed.mp4", render_face_frames(20, width=160, height=96))
    return clip.read_bytes()


mutations = st.lists(
    st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.binary(min_size=1, max_size=16)), min_size=1, max_size=12
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=mutations, cut=st.one_of(st.none(), st.floats(0.0, 1.0)))
@example(edits=[(0.177734375, b"\x80")], cut=None)  # non-UTF-8 metadata: PyAV raised UnicodeDecodeError
def test_mutated_containers_decode_or_fail_cleanly(tmp_path: Path, seed_bytes: bytes, edits, cut):
    data = bytearray(seed_bytes)
    for position, junk in edits:
        offset = int(position * len(data))
        data[offset : offset + len(junk)] = junk
    if cut is not None:
        data = data[: int(cut * len(data))]
    path = tmp_path / "mutant.mp4"
    path.write_bytes(bytes(data))
    outcome: dict[str, object] = {}

    def decode() -> None:  # opening and decoding, all of it, on a thread the test can wait for
        source = AvSource(str(path), live=False)
        try:
            source.open()
            outcome["shapes"] = {
                (frame.image.ndim, frame.image.shape[-1]) for frame in source.frames(threading.Event())
            }
        except SourceError as error:
            outcome["error"] = str(error)
        except BaseException as error:  # anything else is a bug: reported below, not lost on the thread
            outcome["crash"] = f"{type(error).__name__}: {error}"
        finally:
            source.close()

    worker = threading.Thread(target=decode, name="fuzz-decode", daemon=True)
    worker.start()
    # A liveness bound, not a speed claim: a 20-frame thumbnail clip decodes in milliseconds; a mutant that
    # makes open() or the decoder loop for ever is still running after it.
    worker.join(HANG_S)
    assert not worker.is_alive(), "opening or decoding a mutant hung"
    assert "crash" not in outcome, outcome["crash"]
    assert outcome.get("shapes", set()) <= {(3, 3)}  # every frame H x W x 3
    assert "\n" not in str(outcome.get("error", ""))
