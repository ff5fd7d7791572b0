"""Face detection with dlib (weights from face_recognition_models) on a downscaled copy of the frame."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from faces.geometry import Box

with warnings.catch_warnings():
    # face_recognition_models imports pkg_resources, which warns on every start.
    warnings.simplefilter("ignore", UserWarning)
    import face_recognition_models

import dlib


@dataclass(frozen=True)
class DetectedFace:
    """A face box plus its 5 landmarks (eye corners and nose base), full-frame pixels."""

    box: Box
    landmarks: tuple[tuple[float, float], ...] = ()


class FaceDetector:
    """Finds faces in RGB frames.

    Detection runs on a copy whose longer side is at most ``max_side`` pixels, because dlib's
    cost grows with pixel count. HOG finds faces down to ~80 px in that copy, so when it finds
    none there it looks once more at twice the resolution (up to the full frame): small faces in
    large frames are still found, and frames with big faces pay only for the cheap pass.
    """

    def __init__(self, model: str = "hog", max_side: int = 640, upsample: int = 0, landmarks: bool = True) -> None:
        if model not in ("hog", "cnn"):
            raise ValueError(f"face detector model must be 'hog' or 'cnn', not {model!r}")
        self.model = model
        self.max_side = max_side
        self.upsample = upsample
        # One detector object per instance: dlib's detectors are not safe to share between the
        # face threads of several streams (a module-level one shared by two streams crashed here).
        if model == "hog":
            self._detector = dlib.get_frontal_face_detector()
        else:
            self._detector = dlib.cnn_face_detection_model_v1(
                face_recognition_models.cnn_face_detector_model_location()
            )
        self._landmarks = (
            dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
            if landmarks
            else None
        )

    def scale_for(self, frame: np.ndarray) -> float:
        """Factor that brings ``frame`` to at most ``max_side`` on its longer side."""
        longer = max(frame.shape[:2])
        return min(1.0, self.max_side / longer) if self.max_side > 0 else 1.0

    def downscale(self, frame_rgb: np.ndarray) -> tuple[np.ndarray, float]:
        """The frame as the detector sees it, and the factor applied."""
        scale = self.scale_for(frame_rgb)
        if scale >= 1.0:
            return frame_rgb, 1.0
        return cv2.resize(frame_rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), scale

    def detect(self, frame_rgb: np.ndarray, downscaled: tuple[np.ndarray, float] | None = None) -> list[DetectedFace]:
        """Faces in an RGB uint8 frame, largest first, in full-frame coordinates.

        ``downscaled`` is this frame's :meth:`downscale` result when the caller already has it.
        """
        small, scale = downscaled or self.downscale(frame_rgb)
        faces = self.detect_downscaled(small, scale)
        if faces or scale >= 1.0:
            return faces
        finer = min(1.0, 2.0 * scale)
        if finer < 1.0:
            small = cv2.resize(frame_rgb, None, fx=finer, fy=finer, interpolation=cv2.INTER_AREA)
        else:
            small = frame_rgb
        return self.detect_downscaled(small, finer)

    def detect_downscaled(self, small: np.ndarray, scale: float) -> list[DetectedFace]:
        """Faces in ``small``, a copy of the frame resized by ``scale``; boxes in full-frame pixels."""
        small = np.ascontiguousarray(small)
        height, width = small.shape[:2]
        faces = []
        for found in self._detector(small, self.upsample):
            rect = found.rect if self.model == "cnn" else found
            left, top = max(rect.left(), 0), max(rect.top(), 0)
            right, bottom = min(rect.right(), width), min(rect.bottom(), height)
            if right <= left or bottom <= top:
                continue
            points: tuple[tuple[float, float], ...] = ()
            if self._landmarks is not None:
                shape = self._landmarks(small, dlib.rectangle(left, top, right, bottom))
                points = tuple((p.x / scale, p.y / scale) for p in shape.parts())
            faces.append(DetectedFace(Box(left, top, right, bottom).scaled(1.0 / scale), points))
        faces.sort(key=lambda face: face.box.area, reverse=True)
        return faces
