"""Frames with no face, with more faces than followed, and one broken stream among several."""

import numpy as np

from realtime.sources.av_source import AvSource
from realtime.sources.demo import portrait, write_video
from tests.realtime.test_pipeline import build
from tests.test_run_live import records, run_live


def test_no_face_gives_no_score(tmp_path, small_checkpoint):
    clip = write_video(tmp_path / "empty_room.mp4", [np.full((360, 640, 3), 90, np.uint8)] * 20)
    result = run_live("--source", str(clip), "--model", str(small_checkpoint))
    assert result.returncode == 0, result.stderr
    lines = records(result.stdout)
    assert len(lines) == 1
    assert lines[0]["verdict"] == "no face" and lines[0]["video_p_fake"] is None and lines[0]["faces_seen"] == 0


def test_twenty_faces_are_capped_and_the_cap_reported(tmp_path, small_checkpoint):
    tile = portrait()
    row = np.concatenate([tile] * 5, axis=1)
    crowd = np.concatenate([row] * 4, axis=0)  # 20 faces, 1100 x 880
    clip = write_video(tmp_path / "crowd.mp4", [crowd] * 6)
    result = run_live("--source", str(clip), "--model", str(small_checkpoint), "--max-faces", "6")
    assert result.returncode == 0, result.stderr
    summary = records(result.stdout)[-1]
    assert summary["faces_seen"] == 6 and summary["faces_capped"] >= 4  # HOG finds 12-20 of the 20


def test_one_broken_stream_does_not_stop_the_others(tmp_path, one_face_clip, small_checkpoint):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 1000)
    sources = [AvSource(str(broken), live=False), AvSource(str(one_face_clip), live=False)]
    pipeline, verdicts = build(sources, small_checkpoint)
    pipeline.start()
    pipeline.wait()
    assert pipeline.join(1.0)
    failed, healthy = pipeline.stats()
    assert failed.error and "broken.mp4" in failed.error and failed.frames_read == 0
    assert healthy.error is None and healthy.frames_read == 75
    assert {v.source for v in verdicts} == {str(one_face_clip)} and len(verdicts) > 10
