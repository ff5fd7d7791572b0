"""Fuzzing the file source with mutated real container bytes: clean errors only, never a hang."""

import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from realtime.sources.av_source import AvSource
from realtime.sources.base import SourceError
from realtime.sources.demo import render_face_frames, write_video

PER_FILE_LIMIT_S = 10.0


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
    source = AvSource(str(path), live=False)
    started = time.monotonic()
    try:
        source.open()
        for frame in source.frames(threading.Event()):
            assert frame.image.ndim == 3 and frame.image.shape[2] == 3
            assert time.monotonic() - started < PER_FILE_LIMIT_S, "decoding a mutant took too long"
    except SourceError as error:
        assert "\n" not in str(error)
    finally:
        source.close()
