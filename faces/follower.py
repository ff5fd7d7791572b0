"""Follows the faces of one frame sequence: detect every N frames, follow the boxes in between, cut each face's crop.

The live engine's face stage and training data preparation both run these, so a training crop is
the crop the engine makes of the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import cv2
import numpy as np

from faces.crops import CropSettings, FaceImages, face_images
from faces.detector import FaceDetector
from faces.geometry import Box
from faces.motion import PointTracker, lerp_box
from faces.tracker import FaceTracker

# Frames skipped between two processed ones (a live source dropped them) beyond which the boxes of the
# last detection are not trusted to lead to the face: the frame runs the detector instead.
MAX_TRACKING_GAP = 3

Landmarks = tuple[tuple[float, float], ...]


@dataclass(frozen=True, eq=False)
class FollowedFace:
    """One confirmed track in one frame: where it is and its crop."""

    track_id: int
    box: Box
    landmarks: Landmarks  # dlib's 5 points, full-frame pixels (empty without alignment)
    images: FaceImages  # what the model reads of it: the crop, and the native canvas when the model has one


@dataclass
class FollowUpdate:
    """The faces of one frame and the tracks that ended at it."""

    faces: list[FollowedFace] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    detected: bool = False  # whether this frame ran the detector (vs. tracking or interpolation only)


class FollowedFrame(Protocol):
    """What a follower reads of a frame (the engine's ``realtime.frames.Frame`` is one)."""

    @property
    def image(self) -> np.ndarray: ...  # H x W x 3, uint8, RGB

    @property
    def clip_id(self) -> int: ...  # changes when the sequence cuts to unrelated content

    @property
    def index(self) -> int | None: ...  # frame number, counting frames a live source dropped; None: unknown


F = TypeVar("F", bound=FollowedFrame)


class Follower(Protocol[F]):
    """Frames of one sequence in, each frame with its faces out, in frame order (at once or a few frames later)."""

    tracker: FaceTracker  # the id matcher (``faces_capped``)
    track_ids_seen: set[int]
    detections_run: int
    frames_tracked_only: int  # frames whose boxes came from motion or interpolation, not the detector

    def push(self, frame: F) -> list[tuple[F, FollowUpdate]]:
        """Takes the next frame; returns the frames whose faces are now known, with their updates."""
        ...

    def finish(self) -> tuple[list[tuple[F, FollowUpdate]], list[int]]:
        """At the end of the sequence: the frames still held back with their updates, and every track, now ended."""
        ...


@dataclass(frozen=True)
class ScheduleStep:
    """What the schedule says about one frame."""

    new_clip: bool  # the frame starts unrelated content: every track ends
    gap: bool  # more than MAX_TRACKING_GAP frames were dropped before it
    detect: bool  # the frame runs the detector


class DetectionSchedule:
    """When a follower runs the detector: every ``detect_every`` frames, and at once on a new clip or after
    a jump of more than ``MAX_TRACKING_GAP`` frame numbers (frames a live source dropped), from where it
    counts again. Without frame numbers it counts the frames it is given."""

    def __init__(self, detect_every: int) -> None:
        self.detect_every = max(1, detect_every)
        self._frames_since_detect = 0
        self._clip_id: int | None = None
        self._last_index: int | None = None

    def next(self, clip_id: int, index: int | None) -> ScheduleStep:
        """The step of the next frame, of clip ``clip_id`` and frame number ``index``."""
        new_clip = clip_id != self._clip_id
        gap = index is not None and self._last_index is not None and index - self._last_index - 1 > MAX_TRACKING_GAP
        self._clip_id, self._last_index = clip_id, index
        if new_clip or gap:
            self._frames_since_detect = 0
        detect = self._frames_since_detect % self.detect_every == 0
        self._frames_since_detect += 1
        return ScheduleStep(new_clip, gap, detect)


class _FollowerBase:
    """What both followers share: the detector, the id matcher, the detection schedule and the counters."""

    def __init__(self, detector: FaceDetector, crop: CropSettings, detect_every: int, max_faces: int) -> None:
        self.detector = detector
        self.crop = crop
        self.schedule = DetectionSchedule(detect_every)
        self.tracker = FaceTracker(max_faces=max_faces)
        self.track_ids_seen: set[int] = set()
        self.detections_run = 0
        self.frames_tracked_only = 0

    def _detection_round(self, image: np.ndarray, downscaled: tuple[np.ndarray, float] | None = None) -> list[int]:
        """Runs the detector on ``image`` and matches its faces to the tracks; returns the tracks that ended."""
        self.detections_run += 1
        faces = self.detector.detect(image, downscaled)
        changes = self.tracker.update([(face.box, face.landmarks) for face in faces])
        self.track_ids_seen.update(changes.started)
        return changes.ended

    def _face(self, image: np.ndarray, track_id: int, box: Box, landmarks: Landmarks) -> FollowedFace:
        return FollowedFace(track_id, box, landmarks, face_images(image, box, landmarks, self.crop))


class FaceFollower(_FollowerBase, Generic[F]):
    """Stable track ids and crops for the faces of consecutive frames of one source, each frame's at once.

    Between detections the boxes are followed with optical flow (:class:`faces.motion.PointTracker`), or,
    without ``track_motion``, stay where the last detection put them.
    """

    def __init__(
        self,
        detector: FaceDetector,
        crop: CropSettings,
        detect_every: int = 5,
        max_faces: int = 8,
        track_motion: bool = True,
    ) -> None:
        super().__init__(detector, crop, detect_every, max_faces)
        self.track_motion = track_motion
        self._motion: dict[int, PointTracker] = {}

    def push(self, frame: F) -> list[tuple[F, FollowUpdate]]:
        """The frame with its faces (the :class:`Follower` form of :meth:`process`)."""
        return [(frame, self.process(frame.image, frame.clip_id, frame.index))]

    def process(self, image: np.ndarray, clip_id: int = 0, index: int | None = None) -> FollowUpdate:
        """Faces of the next frame (RGB uint8) of clip ``clip_id``, with its frame number ``index`` when known."""
        step = self.schedule.next(clip_id, index)
        update = FollowUpdate(detected=step.detect)
        if step.new_clip:
            update.ended.extend(self.tracker.end_all())
            self._motion.clear()
        if step.detect:
            self._detect(image, update)
        else:
            self._track(image)
        for track in self.tracker.tracks:
            if track.confirmed:
                update.faces.append(self._face(image, track.track_id, track.box, track.landmarks))
        return update

    def _detect(self, image: np.ndarray, update: FollowUpdate) -> None:
        small, scale = self.detector.downscale(image)  # shared by detection and motion tracking
        update.ended.extend(self._detection_round(image, (small, scale)))
        if self.track_motion:
            gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
            self._motion = {}
            for track in self.tracker.tracks:
                if track.confirmed:
                    motion = PointTracker.start(gray, track.box.scaled(scale))
                    if motion is not None:
                        self._motion[track.track_id] = motion

    def _track(self, image: np.ndarray) -> None:
        self.frames_tracked_only += 1
        if not self._motion:
            return
        small, scale = self.detector.downscale(image)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        for track_id, motion in list(self._motion.items()):
            moved = motion.follow(gray)
            if moved is None:
                del self._motion[track_id]  # lost: the box stays put until the next detection
            else:
                self.tracker.move(track_id, moved.scaled(1.0 / scale))

    def finish(self) -> tuple[list[tuple[F, FollowUpdate]], list[int]]:
        """Ends all tracks at the end of the sequence (no frame is ever held back)."""
        self._motion.clear()
        return [], self.tracker.end_all()


class InterpolatingFollower(_FollowerBase, Generic[F]):
    """For recorded files: detect every N frames and draw the faces of the frames in between on the
    boxes interpolated between the two detections that enclose them, instead of tracking them.

    Cheaper than tracking (which costs about as much per frame as detection does per detected frame)
    and steadier, but a frame's faces are known only once the next detection ran: frames come out up
    to N-1 frames late, so live sources keep :class:`FaceFollower`. A face gets crops between two
    detections only when both found it; one found only by the later one starts there.
    """

    def __init__(self, detector: FaceDetector, crop: CropSettings, detect_every: int = 5, max_faces: int = 8) -> None:
        super().__init__(detector, crop, detect_every, max_faces)
        self._pending: list[F] = []  # frames since the last detection, waiting for the next one
        self._anchors: dict[int, tuple[Box, Landmarks]] = {}  # the confirmed tracks of the last detection

    def push(self, frame: F) -> list[tuple[F, FollowUpdate]]:
        step = self.schedule.next(frame.clip_id, frame.index)
        out: list[tuple[F, FollowUpdate]] = []
        if step.new_clip or step.gap:
            out += self._flush_held()
        ended = []
        if step.new_clip:
            ended = self.tracker.end_all()
            self._anchors = {}
        if not step.detect:
            self._pending.append(frame)
            return out
        update = FollowUpdate(ended=ended, detected=True)
        update.ended.extend(self._detection_round(frame.image))
        anchors = {t.track_id: (t.box, t.landmarks) for t in self.tracker.tracks if t.confirmed}
        out += self._interpolated(self._anchors, anchors)
        self._anchors = anchors
        update.faces = [self._face(frame.image, tid, box, points) for tid, (box, points) in anchors.items()]
        out.append((frame, update))
        return out

    def _interpolated(
        self, start: dict[int, tuple[Box, Landmarks]], end: dict[int, tuple[Box, Landmarks]]
    ) -> list[tuple[F, FollowUpdate]]:
        """Updates of the pending frames between two detections (their anchors by track id)."""
        pending, self._pending = self._pending, []
        out = []
        for position, frame in enumerate(pending, start=1):
            t = position / (len(pending) + 1)
            update = FollowUpdate()
            for track_id in sorted(start.keys() & end.keys()):
                box = lerp_box(start[track_id][0], end[track_id][0], t)
                update.faces.append(self._face(frame.image, track_id, box, start[track_id][1]))
            self.frames_tracked_only += 1
            out.append((frame, update))
        return out

    def _flush_held(self) -> list[tuple[F, FollowUpdate]]:
        """The pending frames after the last detection, with no next one: drawn on the last boxes."""
        return self._interpolated(self._anchors, self._anchors)

    def finish(self) -> tuple[list[tuple[F, FollowUpdate]], list[int]]:
        out = self._flush_held()
        self._anchors = {}
        return out, self.tracker.end_all()
