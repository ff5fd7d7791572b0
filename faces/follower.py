"""Follows the faces of one frame sequence: detect every N frames, track in between, cut each face's crop.

The live engine's face stage and training data preparation both run this, so a training crop is
the crop the engine makes of the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dlib
import numpy as np

from faces.crops import CropSettings, FaceImages, face_images
from faces.detector import FaceDetector
from faces.geometry import Box
from faces.tracker import FaceTracker

# Frames skipped between two processed ones (a live source dropped them) beyond which the correlation
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
        self._motion: dict[int, dlib.correlation_tracker] = {}
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
        runs the detector at once, rather than asking the correlation tracker to bridge the gap.
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
            self._motion = {}
            for track in self.tracker.tracks:
                if track.confirmed:
                    motion = dlib.correlation_tracker()
                    motion.start_track(small, _to_rect(track.box.scaled(scale)))
                    self._motion[track.track_id] = motion

    def _track(self, image: np.ndarray) -> None:
        self.frames_tracked_only += 1
        if not self._motion:
            return
        small, scale = self.detector.downscale(image)
        for track_id, motion in self._motion.items():
            motion.update(small)
            position = motion.get_position()
            moved = Box(position.left(), position.top(), position.right(), position.bottom())
            self.tracker.move(track_id, moved.scaled(1.0 / scale))

    def finish(self) -> list[int]:
        """Ends all tracks at the end of the sequence."""
        self._motion.clear()
        return self.tracker.end_all()


def _to_rect(box: Box) -> dlib.rectangle:
    left, top, right, bottom = box.as_ints()
    return dlib.rectangle(left, top, right, bottom)
