"""Decoding real H.264 files with PyAV, paced and unpaced."""

import itertools
import threading
import time

import pytest

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


def test_realtime_pacing_follows_timestamps_and_stops_at_once(one_face_clip):
    source = AvSource(str(one_face_clip), live=False, realtime=True)
    assert source.is_live
    source.open()
    stop = threading.Event()
    started = time.monotonic()
    for frame in source.frames(stop):
        if frame.index == 12:  # 12 / 25 fps = 0.48 s of video
            break
    assert time.monotonic() - started >= 0.45
    stop.set()
    source.close()


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
