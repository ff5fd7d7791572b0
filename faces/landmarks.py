"""dlib's 68-point landmarks and 128-d face descriptors (weights from face_recognition_models).

Training uses the 68 points for synthesis masks and the descriptor to find the same person under
two names before splitting by identity.
"""

from __future__ import annotations

import warnings

import dlib
import numpy as np

from faces.geometry import Box

with warnings.catch_warnings():
    # face_recognition_models imports pkg_resources, which warns on every start.
    warnings.simplefilter("ignore", UserWarning)
    import face_recognition_models


class FaceLandmarks:
    """68-point landmarks and identity descriptors of a face whose box is known."""

    def __init__(self, descriptors: bool = False) -> None:
        self._predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
        self._describer = (
            dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())
            if descriptors
            else None
        )

    def _shape(self, image: np.ndarray, box: Box) -> dlib.full_object_detection:
        left, top, right, bottom = box.as_ints()
        return self._predictor(np.ascontiguousarray(image), dlib.rectangle(left, top, right, bottom))

    def points(self, image: np.ndarray, box: Box) -> np.ndarray:
        """(68, 2) float32 landmark coordinates in ``image`` pixels, dlib's order."""
        shape = self._shape(image, box)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)

    def descriptor(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The 128-d identity descriptor (same person: distance under ~0.6)."""
        if self._describer is None:
            raise RuntimeError("FaceLandmarks was built without descriptors")
        return np.asarray(self._describer.compute_face_descriptor(image, self._shape(image, box)), dtype=np.float32)
