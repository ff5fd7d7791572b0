"""Per-source face stage: the shared face follower, its results turned into the engine's messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from faces.crops import CropSettings
from faces.detector import FaceDetector
from faces.follower import FaceFollower
from realtime.frames import FaceCrop, Frame, TrackedFace

__all__ = ["CropSettings", "FaceStage", "FaceStageResult"]


@dataclass
class FaceStageResult:
    """Crops of confirmed tracks in one frame, and tracks that ended at this frame."""

    crops: list[FaceCrop] = field(default_factory=list)
    faces: list[TrackedFace] = field(default_factory=list)  # boxes of the confirmed tracks
    ended_tracks: list[int] = field(default_factory=list)
    detected: bool = False  # whether this frame ran the detector (vs. tracking only)


class FaceStage:
    """Turns frames of one source into face crops with stable track ids (``follower`` does the work)."""

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
        self.follower = FaceFollower(detector, crop, detect_every, max_faces, track_motion)

    def process(self, frame: Frame) -> FaceStageResult:
        update = self.follower.process(frame.image, frame.clip_id, frame.index)
        result = FaceStageResult(ended_tracks=update.ended, detected=update.detected)
        for face in update.faces:
            result.faces.append(TrackedFace(face.track_id, face.box))
            result.crops.append(
                FaceCrop(
                    self.source_name,
                    face.track_id,
                    frame.index,
                    frame.pts_s,
                    frame.captured_at,
                    face.images.crop,
                    frame.name,
                    face.images.canvas,
                )
            )
        return result

    def finish(self) -> list[int]:
        """Ends all tracks at the end of the stream."""
        return self.follower.finish()
