"""Square face crops with a margin, optionally rotated upright from eye landmarks.

Training data preparation uses this same function, so the model sees identical crops
in training and in live inference.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from realtime.faces.geometry import Box


def eye_angle_deg(landmarks: tuple[tuple[float, float], ...]) -> float:
    """Roll angle of the line between the eyes, from dlib's 5-point layout.

    Points 0-1 are the right eye's corners and 2-3 the left eye's (image left/right swapped).
    Returns 0 when landmarks are missing.
    """
    if len(landmarks) < 4:
        return 0.0
    right_eye = np.mean(landmarks[0:2], axis=0)
    left_eye = np.mean(landmarks[2:4], axis=0)
    dx, dy = right_eye[0] - left_eye[0], right_eye[1] - left_eye[1]
    return math.degrees(math.atan2(dy, dx))


def square_crop(
    frame_rgb: np.ndarray, box: Box, margin_ratio: float, output_size: int, angle_deg: float = 0.0
) -> np.ndarray:
    """A ``output_size``² RGB crop centred on ``box``, side = longer box side x ``margin_ratio``.

    ``angle_deg`` rotates the crop so a face rolled by that angle comes out upright. Parts of
    the square outside the frame are black rather than stretched, so no fake texture is made up.
    """
    cx, cy = box.center
    side = max(box.width, box.height) * margin_ratio
    scale = output_size / max(side, 1.0)
    rotation = cv2.getRotationMatrix2D((cx, cy), angle_deg, scale)
    # Shift so the box centre lands in the middle of the output.
    rotation[0, 2] += output_size / 2.0 - cx
    rotation[1, 2] += output_size / 2.0 - cy
    return cv2.warpAffine(
        frame_rgb,
        rotation,
        (output_size, output_size),
        flags=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
