"""Follows the faces of one frame sequence: detect every N frames, track in between, cut each face's crop.

The live engine's face stage and training data preparation both run this, so a training crop is
the crop the engine makes of the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from faces.crops import CropSettings, FaceImages, face_images
from faces.detector import FaceDetector
from faces.geometry import Box
from faces.tracker import FaceTracker

# Frames skipped between two processed ones (a live source dropped them) beyond which the optical-flow
# tracker is not trusted to follow the face: the frame runs the detector instead.
MAX_TRACKING_GAP = 3


@dataclass(frozen=True, eq=False)
class FollowedFace:
    """One confirmed track in one frame: where it is and its crop."""

    track_id: int
    box: Box
    landmarks: tuple[tuple[float, float], ...]  # dlib's 5 points, full-frame pixels (empty without alignment)
    images: FaceImages  # what the model reads of it: the crop, and the native canvas when the model has one


@dataclass
class FollowUpdate:
    """The faces of one frame and the tracks that ended at it."""

    faces: list[FollowedFace] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    detected: bool = False  # whether this frame ran the detector (vs. tracking only)


class PointTracker:
    """Moves one face box between detections with sparse optical flow (pyramidal Lucas-Kanade).

    Corners inside the box are followed from frame to frame; the box moves by their median motion
    and scales by the change of their spread. About a quarter of the cost of dlib's correlation
    tracker on a large face, and as close to the detector's boxes.
    """

    MAX_POINTS = 40
    MIN_POINTS = 6  # fewer followed corners than this: the face is lost

    def __init__(self, gray: np.ndarray, points: np.ndarray, box: Box) -> None:
        self.gray = gray
        self.points = points
        self.box = box

    @classmethod
    def start(cls, gray: np.ndarray, box: Box) -> PointTracker | None:
        """A tracker of ``box`` in the grey frame ``gray``; None when the box holds too few corners."""
        left, top, right, bottom = box.as_ints()
        mask = np.zeros_like(gray)
        mask[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = 255
        points = cv2.goodFeaturesToTrack(gray, cls.MAX_POINTS, 0.01, max(3, round(box.width / 20)), mask=mask)
        if points is None or len(points) < cls.MIN_POINTS:
            return None
        return cls(gray, points.astype(np.float32), box)

    def follow(self, gray: np.ndarray) -> Box | None:
        """The box in the next grey frame, or None when the face was lost."""
        moved, status, _ = cv2.calcOpticalFlowPyrLK(self.gray, gray, self.points, None, winSize=(15, 15), maxLevel=2)
        kept = status.ravel() == 1
        if kept.sum() < self.MIN_POINTS:
            return None
        before, after = self.points[kept].reshape(-1, 2), moved[kept].reshape(-1, 2)
        shift = np.median(after - before, axis=0)
        spread_before = np.median(np.linalg.norm(before - before.mean(axis=0), axis=1))
        spread_after = np.median(np.linalg.norm(after - after.mean(axis=0), axis=1))
        scale = float(np.clip(spread_after / spread_before, 0.8, 1.25)) if spread_before > 0 else 1.0
        cx, cy = self.box.center
        half_w, half_h = self.box.width * scale / 2, self.box.height * scale / 2
        cx, cy = cx + float(shift[0]), cy + float(shift[1])
        self.box = Box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)
        self.gray, self.points = gray, after.reshape(-1, 1, 2)
        return self.box


class FaceFollower:
    """Stable track ids and crops for the faces of consecutive frames of one source."""

    def __init__(
        self,
        detector: FaceDetector,
        crop: CropSettings,
        detect_every: int = 5,
        max_faces: int = 8,
        track_motion: bool = True,
    ) -> None:
        self.detector = detector
        self.crop = crop
        self.detect_every = max(1, detect_every)
        self.tracker = FaceTracker(max_faces=max_faces)
        self.track_motion = track_motion
        self._motion: dict[int, PointTracker] = {}
        self._frames_since_detect = 0
        self._clip_id: int | None = None
        self._last_index: int | None = None
        self.track_ids_seen: set[int] = set()
        self.detections_run = 0
        self.frames_tracked_only = 0

    def process(self, image: np.ndarray, clip_id: int = 0, index: int | None = None) -> FollowUpdate:
        """Faces of the next frame (RGB uint8) with its frame number ``index`` when known.

        A new ``clip_id`` means unrelated content: every track ends. A jump of more than
        ``MAX_TRACKING_GAP`` frame numbers since the previous frame (frames a live source dropped)
        runs the detector at once, rather than asking the point tracker to bridge the gap.
        """
        update = FollowUpdate()
        if clip_id != self._clip_id:
            update.ended.extend(self.tracker.end_all())
            self._motion.clear()
            self._clip_id = clip_id
            self._frames_since_detect = 0
        gap = index - self._last_index - 1 if index is not None and self._last_index is not None else 0
        self._last_index = index
        if gap > MAX_TRACKING_GAP:
            self._frames_since_detect = 0
        if self._frames_since_detect % self.detect_every == 0:
            update.detected = True
            self._detect(image, update)
        else:
            self._track(image)
        self._frames_since_detect += 1
        for track in self.tracker.tracks:
            if track.confirmed:
                images = face_images(image, track.box, track.landmarks, self.crop)
                update.faces.append(FollowedFace(track.track_id, track.box, track.landmarks, images))
        return update

    def _detect(self, image: np.ndarray, update: FollowUpdate) -> None:
        self.detections_run += 1
        small, scale = self.detector.downscale(image)  # shared by detection and motion tracking
        faces = self.detector.detect(image, (small, scale))
        changes = self.tracker.update([(face.box, face.landmarks) for face in faces])
        update.ended.extend(changes.ended)
        self.track_ids_seen.update(changes.started)
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

    def finish(self) -> list[int]:
        """Ends all tracks at the end of the sequence."""
        self._motion.clear()
        return self.tracker.end_all()


def lerp_box(start: Box, end: Box, t: float) -> Box:
    """The box a fraction ``t`` of the way from ``start`` to ``end``."""
    return Box(
        start.left + (end.left - start.left) * t,
        start.top + (end.top - start.top) * t,
        start.right + (end.right - start.right) * t,
        start.bottom + (end.bottom - start.bottom) * t,
    )


@dataclass
class _Pending:
    item: Any  # what the caller gets back with the frame's update (the engine's Frame)
    image: np.ndarray


class InterpolatingFollower:
    """For recorded files: detect every N frames and draw the faces of the frames in between on the
    boxes interpolated between the two detections that enclose them, instead of tracking them.

    Cheaper than tracking (which costs about as much per frame as detection does per detected frame)
    and steadier, but a frame's faces are known only once the next detection ran: frames come out up
    to N-1 frames late, so live sources keep :class:`FaceFollower`. A face gets crops between two
    detections only when both found it; one found only by the later one starts there.
    """

    def __init__(self, detector: FaceDetector, crop: CropSettings, detect_every: int = 5, max_faces: int = 8) -> None:
        self.detector = detector
        self.crop = crop
        self.detect_every = max(1, detect_every)
        self.tracker = FaceTracker(max_faces=max_faces)
        self._pending: list[_Pending] = []
        self._anchors: dict[int, tuple[Box, tuple[tuple[float, float], ...]]] = {}
        self._frames_since_detect = 0
        self._clip_id: int | None = None
        self._last_index: int | None = None
        self.track_ids_seen: set[int] = set()
        self.detections_run = 0
        self.frames_tracked_only = 0  # frames drawn on interpolated boxes

    def push(
        self, item: Any, image: np.ndarray, clip_id: int = 0, index: int | None = None
    ) -> list[tuple[Any, FollowUpdate]]:
        """Takes the next frame; returns the (item, update) pairs of the frames whose faces are now known, in order."""
        out: list[tuple[Any, FollowUpdate]] = []
        if clip_id != self._clip_id:
            out += self._flush_held()
            ended = self.tracker.end_all()
            self._anchors = {}
            self._clip_id = clip_id
            self._frames_since_detect = 0
        else:
            ended = []
        gap = index - self._last_index - 1 if index is not None and self._last_index is not None else 0
        self._last_index = index
        if gap > MAX_TRACKING_GAP:
            out += self._flush_held()
            self._frames_since_detect = 0
        if self._frames_since_detect % self.detect_every:
            self._frames_since_detect += 1
            self._pending.append(_Pending(item, image))
            return out
        self._frames_since_detect += 1
        update = FollowUpdate(ended=ended, detected=True)
        self.detections_run += 1
        faces = self.detector.detect(image)
        changes = self.tracker.update([(face.box, face.landmarks) for face in faces])
        update.ended.extend(changes.ended)
        self.track_ids_seen.update(changes.started)
        anchors = {t.track_id: (t.box, t.landmarks) for t in self.tracker.tracks if t.confirmed}
        out += self._interpolated(self._anchors, anchors)
        self._anchors = anchors
        update.faces = [self._face(image, tid, box, points) for tid, (box, points) in anchors.items()]
        out.append((item, update))
        return out

    def _face(self, image: np.ndarray, track_id: int, box: Box, points: tuple) -> FollowedFace:
        return FollowedFace(track_id, box, points, face_images(image, box, points, self.crop))

    def _interpolated(self, start: dict, end: dict) -> list[tuple[Any, FollowUpdate]]:
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
            out.append((frame.item, update))
        return out

    def _flush_held(self) -> list[tuple[Any, FollowUpdate]]:
        """The pending frames after the last detection, with no next one: drawn on the last boxes."""
        return self._interpolated(self._anchors, self._anchors)

    def finish(self) -> tuple[list[tuple[Any, FollowUpdate]], list[int]]:
        """The frames still held at the end of the sequence, and every track, now ended."""
        out = self._flush_held()
        self._anchors = {}
        return out, self.tracker.end_all()
