"""Per-source face stage: a shared face follower, its results turned into the engine's messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from faces.crops import CropSettings
from faces.detector import FaceDetector
from faces.follower import FaceFollower, Follower, FollowUpdate, InterpolatingFollower
from realtime.frames import FaceCrop, Frame, TrackedFace

__all__ = ["CropSettings", "FaceStage", "FaceStageResult"]


@dataclass
class FaceStageResult:
    """Crops of confirmed tracks in one frame, and tracks that ended at this frame."""

    frame: Frame
    crops: list[FaceCrop] = field(default_factory=list)
    faces: list[TrackedFace] = field(default_factory=list)  # boxes of the confirmed tracks
    ended_tracks: list[int] = field(default_factory=list)
    detected: bool = False  # whether this frame ran the detector (vs. tracking or interpolation)


class FaceStage:
    """Turns frames of one source into face crops with stable track ids (``follower`` does the work).

    ``motion``: ``track`` follows faces between detections with optical flow (``faces.motion.PointTracker``),
    frame by frame (live sources); ``interpolate`` draws the frames between two detections on interpolated
    boxes, each frame's result coming once the next detection ran (recorded files); ``none`` keeps
    the last detected boxes (unrelated still images detect every frame anyway).
    """

    def __init__(
        self,
        source_name: str,
        detector: FaceDetector,
        crop: CropSettings,
        detect_every: int = 5,
        max_faces: int = 8,
        motion: str = "track",
    ) -> None:
        if motion not in ("track", "interpolate", "none"):
            raise ValueError(f"face motion must be track, interpolate or none, not {motion!r}")
        self.source_name = source_name
        self.follower: Follower[Frame]
        if motion == "interpolate":
            self.follower = InterpolatingFollower(detector, crop, detect_every, max_faces)
        else:
            self.follower = FaceFollower(detector, crop, detect_every, max_faces, track_motion=motion == "track")

    def process(self, frame: Frame) -> list[FaceStageResult]:
        """The results of the frames whose faces are known after ``frame``: that one (tracking), or the
        frames up to the next detection at once (interpolation), in frame order."""
        return [self._result(known, update) for known, update in self.follower.push(frame)]

    def finish(self) -> tuple[list[FaceStageResult], list[int]]:
        """At the end of the stream: the results still held back, and every track, now ended."""
        held, ended = self.follower.finish()
        return [self._result(known, update) for known, update in held], ended

    def _result(self, frame: Frame, update: FollowUpdate) -> FaceStageResult:
        result = FaceStageResult(frame, ended_tracks=update.ended, detected=update.detected)
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
