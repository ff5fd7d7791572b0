"""Per-source face stage: detect every N frames, track in between, cut square crops."""

from __future__ import annotations

from dataclasses import dataclass, field

import dlib

from realtime.faces.crops import eye_angle_deg, square_crop
from realtime.faces.detector import FaceDetector
from realtime.faces.geometry import Box
from realtime.faces.tracker import FaceTracker
from realtime.frames import FaceCrop, Frame, TrackedFace


@dataclass(frozen=True)
class CropSettings:
    """How crops are cut; comes from the model's spec so training and live crops match."""

    margin_ratio: float = 1.3
    output_size: int = 224
    aligned: bool = False


@dataclass
class FaceStageResult:
    """Crops of confirmed tracks in one frame, and tracks that ended at this frame."""

    crops: list[FaceCrop] = field(default_factory=list)
    faces: list[TrackedFace] = field(default_factory=list)  # boxes of the confirmed tracks
    ended_tracks: list[int] = field(default_factory=list)
    detected: bool = False  # whether this frame ran the detector (vs. tracking only)


class FaceStage:
    """Turns frames of one source into face crops with stable track ids."""

    def __init__(
        self,
        source_name: str,
        detector: FaceDetector,
        crop: CropSettings,
        detect_every: int = 5,
        max_faces: int = 8,
        track_motion: bool = True,
    ) -> None:
        self.source_name = source_name
        self.detector = detector
        self.crop = crop
        self.detect_every = max(1, detect_every)
        self.tracker = FaceTracker(max_faces=max_faces)
        self.track_motion = track_motion
        self._motion: dict[int, dlib.correlation_tracker] = {}
        self._frames_since_detect = 0
        self._clip_id: int | None = None
        self.track_ids_seen: set[int] = set()
        self.detections_run = 0
        self.frames_tracked_only = 0

    def process(self, frame: Frame) -> FaceStageResult:
        result = FaceStageResult()
        if frame.clip_id != self._clip_id:
            # A new unrelated picture: no face can continue from the previous one.
            result.ended_tracks.extend(self.tracker.end_all())
            self._motion.clear()
            self._clip_id = frame.clip_id
            self._frames_since_detect = 0
        if self._frames_since_detect % self.detect_every == 0:
            result.detected = True
            self.detections_run += 1
            small, scale = self.detector.downscale(frame.image)  # shared by detection and motion tracking
            faces = self.detector.detect(frame.image, (small, scale))
            update = self.tracker.update([(face.box, face.landmarks) for face in faces])
            result.ended_tracks.extend(update.ended)
            self.track_ids_seen.update(update.started)
            if self.track_motion:
                self._motion = {}
                for track in self.tracker.tracks:
                    if track.confirmed:
                        motion = dlib.correlation_tracker()
                        motion.start_track(small, _to_rect(track.box.scaled(scale)))
                        self._motion[track.track_id] = motion
        else:
            self.frames_tracked_only += 1
            if self._motion:
                small, scale = self.detector.downscale(frame.image)
                for track_id, motion in self._motion.items():
                    motion.update(small)
                    position = motion.get_position()
                    moved = Box(position.left(), position.top(), position.right(), position.bottom())
                    self.tracker.move(track_id, moved.scaled(1.0 / scale))
        self._frames_since_detect += 1
        for track in self.tracker.tracks:
            if not track.confirmed:
                continue
            result.faces.append(TrackedFace(track.track_id, track.box))
            angle = eye_angle_deg(track.landmarks) if self.crop.aligned else 0.0
            image = square_crop(frame.image, track.box, self.crop.margin_ratio, self.crop.output_size, angle)
            result.crops.append(
                FaceCrop(
                    self.source_name, track.track_id, frame.index, frame.pts_s, frame.captured_at, image, frame.name
                )
            )
        return result

    def finish(self) -> list[int]:
        """Ends all tracks at the end of the stream."""
        self._motion.clear()
        return self.tracker.end_all()


def _to_rect(box: Box) -> dlib.rectangle:
    left, top, right, bottom = box.as_ints()
    return dlib.rectangle(left, top, right, bottom)
