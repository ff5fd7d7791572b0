"""Face thumbnails of the alert lists: one look in the window and in the stream grid."""

from __future__ import annotations

import numpy as np

from faces.crops import square_crop
from faces.geometry import Box

THUMBNAIL_PX = 48  # side of a face thumbnail, and of the icons of the lists that show them


def face_thumbnail(image: np.ndarray, box: Box, side_px: int = THUMBNAIL_PX) -> np.ndarray:
    """The face in ``box`` of an RGB image as a ``side_px`` square: the box's longer side, centred, undistorted,
    black where the square leaves the frame."""
    return square_crop(image, box, 1.0, side_px)
