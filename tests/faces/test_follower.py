"""The face follower: detection every N frames, tracking in between, re-detection after dropped frames or a cut."""

from __future__ import annotations

from faces.crops import CropSettings
from faces.detector import FaceDetector
from faces.follower import MAX_TRACKING_GAP, DetectionSchedule, FaceFollower
from realtime.sources.demo import render_face_frames


def test_frames_dropped_by_a_live_source_are_bridged_by_detection_not_tracking():
    frames = render_face_frames(60)
    follower = FaceFollower(FaceDetector(), CropSettings(output_size=64), detect_every=5)
    detected = [follower.process(frames[i], index=i).detected for i in range(4)]
    assert detected == [True, False, False, False]
    # Frame 4 would be tracked from frame 3; after a jump of 30 frames the face has moved: detect instead.
    jump = 4 + MAX_TRACKING_GAP + 30
    update = follower.process(frames[jump], index=jump)
    assert update.detected and [face.track_id for face in update.faces] == [1]  # the same face, found again
    follower.process(frames[jump + 1], index=jump + 1)
    assert not follower.process(frames[jump + 2], index=jump + 2).detected  # the schedule restarted there


def test_without_frame_numbers_the_schedule_counts_processed_frames():
    frames = render_face_frames(12)
    follower = FaceFollower(FaceDetector(), CropSettings(output_size=64), detect_every=3)
    assert [follower.process(image).detected for image in frames[:7]] == [True, False, False] * 2 + [True]


def test_the_detection_schedule_restarts_on_a_new_clip_and_after_a_gap():
    schedule = DetectionSchedule(detect_every=3)
    steps = [schedule.next(0, index) for index in range(4)]
    assert [step.detect for step in steps] == [True, False, False, True]
    assert steps[0].new_clip and not any(step.new_clip or step.gap for step in steps[1:])
    jump = schedule.next(0, 4 + MAX_TRACKING_GAP + 1)  # MAX_TRACKING_GAP + 1 frames dropped
    assert jump.gap and jump.detect and not jump.new_clip
    assert not schedule.next(0, 4 + MAX_TRACKING_GAP + 2).detect
    assert not schedule.next(0, 4 + 2 * MAX_TRACKING_GAP + 3).gap  # MAX_TRACKING_GAP dropped: bridged
    cut = schedule.next(1, 0)  # the next clip starts its own numbering
    assert cut.new_clip and cut.detect and not cut.gap
