"""Face detection and tracking on real decoded video."""

import threading
from pathlib import Path

from faces.crops import square_crop
from faces.detector import FaceDetector
from faces.geometry import Box
from realtime.face_stage import CropSettings, FaceStage
from realtime.sources.av_source import AvSource
from tests.support.data import shared_clip


def run_stage(
    path: Path, detect_every: int = 5, limit: int | None = None, motion: str = "track"
) -> tuple[FaceStage, list, list]:
    stage = FaceStage("clip", FaceDetector(), CropSettings(output_size=64), detect_every=detect_every, motion=motion)
    source = AvSource(str(path), live=False)
    source.open()
    results = []
    try:
        for frame in source.frames(threading.Event()):
            results.extend(stage.process(frame))
            if limit and frame.index + 1 >= limit:
                break
    finally:
        source.close()
    held, ended = stage.finish()
    results.extend(held)
    assert [r.frame.index for r in results] == sorted(r.frame.index for r in results)  # in frame order
    crops = [crop for result in results for crop in result.crops]
    return stage, crops, [track for result in results for track in result.ended_tracks] + ended


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


def boxes_of(path: Path, **options) -> dict[int, Box]:
    """Frame index -> the face box the stage gives it (one face)."""
    stage = FaceStage("clip", FaceDetector(), CropSettings(output_size=64), **options)
    source = AvSource(str(path), live=False)
    source.open()
    results = [r for frame in source.frames(threading.Event()) for r in stage.process(frame)]
    source.close()
    results += stage.finish()[0]
    return {r.frame.index: r.faces[0].box for r in results if r.faces}


def test_interpolating_between_detections_follows_the_face_in_every_frame(one_face_clip):
    from faces.geometry import iou

    stage, crops, ended = run_stage(one_face_clip, motion="interpolate")
    tracked_stage, tracked, _ = run_stage(one_face_clip)
    assert {c.track_id for c in crops} == {1} and ended == [1]
    assert [c.frame_index for c in crops] == [c.frame_index for c in tracked]  # the same frames, none lost
    assert stage.follower.detections_run == tracked_stage.follower.detections_run == 15
    # Against the detector run on every frame (whose own box jitters), interpolated boxes agree at least
    # as well as tracked ones.
    detected = boxes_of(one_face_clip, detect_every=1, motion="none")

    def agreement(motion: str) -> float:
        boxes = boxes_of(one_face_clip, motion=motion)
        overlaps = [iou(boxes[i], detected[i]) for i in detected if i in boxes]
        assert len(overlaps) >= 70
        return sum(overlaps) / len(overlaps)

    interpolated, tracked_overlap = agreement("interpolate"), agreement("track")
    assert interpolated > 0.85 and interpolated >= tracked_overlap - 0.02


def test_interpolation_gives_no_crops_of_a_face_after_it_left(face_leaves_clip):
    _, crops, ended = run_stage(face_leaves_clip, motion="interpolate")
    assert ended == [1] and max(c.frame_index for c in crops) < 25
