"""Decoding real H.264 files with PyAV, paced and unpaced."""

import itertools
import threading

import pytest

from realtime.sources import av_source
from realtime.sources.av_source import AvSource
from realtime.sources.base import SourceError
from realtime.sources.factory import open_source_spec


def test_decodes_every_frame_with_increasing_timestamps(one_face_clip):
    source = AvSource(str(one_face_clip), live=False)
    source.open()
    frames = list(source.frames(threading.Event()))
    source.close()
    assert len(frames) == 75
    assert [f.index for f in frames] == list(range(75))
    assert frames[0].pts_s == 0.0 and abs(frames[-1].pts_s - 74 / 25) < 1e-6
    assert frames[0].image.shape == (360, 640, 3) and frames[0].image.dtype.name == "uint8"
    assert all(a.captured_at <= b.captured_at for a, b in itertools.pairwise(frames))


class PacingClock:
    """Stands in for av_source's ``time`` and the stop event: waiting moves the clock, nothing sleeps.

    ``stop_during_wait``: the stop is set while the source waits before frame number N (0-based).
    """

    def __init__(self, stop_during_wait: int | None = None) -> None:
        self.now = 500.0
        self.waits: list[float] = []
        self.stop_during_wait = stop_during_wait
        self.stopped = False

    def monotonic(self) -> float:  # av_source's time.monotonic()
        return self.now

    def is_set(self) -> bool:  # the stop event
        return self.stopped

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        if self.stop_during_wait is not None and len(self.waits) >= self.stop_during_wait:
            self.stopped = True
        return self.stopped


def test_realtime_pacing_hands_each_frame_over_at_its_timestamp(one_face_clip, monkeypatch):
    clock = PacingClock()
    monkeypatch.setattr(av_source, "time", clock)
    source = AvSource(str(one_face_clip), live=False, realtime=True)
    assert source.is_live
    source.open()
    try:
        frames = list(source.frames(clock))
    finally:
        source.close()
    assert len(frames) == 75
    # Every frame waits until its own time from the first one: not before (a lower bound), and no longer
    # either (decoding takes no time on this clock), one wait per frame after the first.
    assert [round(f.captured_at - 500.0, 6) for f in frames] == [round(f.pts_s, 6) for f in frames]
    assert len(clock.waits) == 74 and all(w == pytest.approx(0.04) for w in clock.waits)


def test_a_stop_during_a_pacing_wait_ends_the_stream_mid_file_at_once(one_face_clip, monkeypatch):
    clock = PacingClock(stop_during_wait=12)  # stopped while waiting for frame 12 (0.48 s into the file)
    monkeypatch.setattr(av_source, "time", clock)
    source = AvSource(str(one_face_clip), live=False, realtime=True)
    source.open()
    try:
        frames = list(source.frames(clock))
    finally:
        source.close()
    assert [f.index for f in frames] == list(range(12))  # frame 12 is never handed over, nor any after it
    assert len(clock.waits) == 12  # no wait after the stop


@pytest.mark.parametrize("realtime", [True, False])
def test_a_stop_between_frames_ends_the_stream_mid_file(one_face_clip, realtime):
    source = AvSource(str(one_face_clip), live=False, realtime=realtime)
    source.open()
    stop = threading.Event()
    try:
        stream = source.frames(stop)
        first = [next(stream) for _ in range(13)]
        stop.set()
        rest = list(stream)
    finally:
        source.close()
    assert [f.index for f in first] == list(range(13)) and rest == []  # 62 frames were left in the file


def test_missing_and_junk_files_give_one_line_errors(tmp_path):
    with pytest.raises(SourceError, match="source not found"):
        open_source_spec(str(tmp_path / "nope.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x01not a video" * 100)
    source = open_source_spec(str(junk))
    with pytest.raises(SourceError) as error:
        source.open()
    assert "\n" not in str(error.value) and "junk.mp4" in str(error.value)


def test_unknown_scheme_and_bad_forms_are_refused():
    with pytest.raises(SourceError, match="unknown source scheme"):
        open_source_spec("gopher://x/y")
    with pytest.raises(SourceError, match="webcam:N"):
        open_source_spec("webcam:front")
    with pytest.raises(SourceError, match="x,y,width,height"):
        open_source_spec("screen:1,2,3")


def test_no_source_means_the_generated_demo_clip(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFAKE_ANALYZER_CACHE", str(tmp_path))
    source = open_source_spec(None)
    source.open()
    frames = list(source.frames(threading.Event()))
    source.close()
    assert len(frames) == 100 and (tmp_path / "demo_face_v3.mp4").is_file()


def test_sampling_passes_every_nth_frame_with_file_indices(one_face_clip):
    source = AvSource(str(one_face_clip), live=False, sample_every=4)
    source.open()
    frames = list(source.frames(threading.Event()))
    source.close()
    assert [f.index for f in frames] == list(range(0, 75, 4))
    assert abs(frames[1].pts_s - 4 / 25) < 1e-6
