"""Face detection and tracking on real decoded video."""

import threading
from pathlib import Path

from faces.crops import square_crop
from faces.detector import FaceDetector
from faces.geometry import Box
from realtime.face_stage import CropSettings, FaceStage
from realtime.sources.av_source import AvSource
from tests.support.data import shared_clip


def run_stage(path: Path, detect_every: int = 5, limit: int | None = None) -> tuple[FaceStage, list, list]:
    stage = FaceStage("clip", FaceDetector(), CropSettings(output_size=64), detect_every=detect_every)
    source = AvSource(str(path), live=False)
    source.open()
    crops, ended = [], []
    try:
        for frame in source.frames(threading.Event()):
            result = stage.process(frame)
            crops.extend(result.crops)
            ended.extend(result.ended_tracks)
            if limit and frame.index + 1 >= limit:
                break
    finally:
        source.close()
    ended.extend(stage.finish())
    return stage, crops, ended


def test_one_moving_face_keeps_one_id_through_the_clip(one_face_clip):
    stage, crops, ended = run_stage(one_face_clip)
    assert {c.track_id for c in crops} == {1}
    assert len(crops) >= 70  # found in (nearly) every one of the 75 frames
    assert all(c.crop.shape == (64, 64, 3) for c in crops)
    assert stage.follower.frames_tracked_only > stage.follower.detections_run  # tracking replaced most detections
    assert ended == [1]


def test_two_faces_get_two_stable_ids(two_face_clip):
    _, crops, _ = run_stage(two_face_clip)
    ids = {c.track_id for c in crops}
    assert ids == {1, 2}
    per_frame = {}
    for crop in crops:
        per_frame.setdefault(crop.frame_index, set()).add(crop.track_id)
    assert sum(1 for ids in per_frame.values() if ids == {1, 2}) >= 40


def test_track_ends_when_the_face_leaves(face_leaves_clip):
    _, crops, ended = run_stage(face_leaves_clip)
    assert ended == [1]
    assert max(c.frame_index for c in crops) < 25 + 5  # no crops of empty background


def test_crop_is_centred_and_black_outside_the_frame():
    import numpy as np

    frame = np.full((100, 100, 3), 200, dtype=np.uint8)
    crop = square_crop(frame, Box(-20, 30, 20, 70), margin_ratio=1.0, output_size=40)
    assert crop.shape == (40, 40, 3)
    assert crop[:, :15].max() == 0 and crop[:, 25:].min() == 200


def test_faces_found_and_tracked_in_a_real_clip_of_shared_data():
    clip = shared_clip("real", "KwaiVGI")
    _, crops, _ = run_stage(clip, limit=40)
    ids = [c.track_id for c in crops]
    assert len(ids) >= 30, "the face of a real clip was missed in most frames"
    assert len(set(ids)) == 1, f"one person must keep one id, got {sorted(set(ids))}"
