"""Square face crops with a margin, optionally rotated upright from eye landmarks, and native-resolution canvases.

Training data preparation uses these same functions, so the model sees identical crops in
training and in live inference.

A *canvas* keeps the face at its native resolution: a ``canvas_size``² window of the frame's own
pixels centred on the face (no resampling at all when the crop side fits in it; larger faces are
area-downscaled until their crop fits). The model's RGB input is then derived from the canvas
(:func:`crop_from_canvas`), so the two inputs always show the same face, in training too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from faces.geometry import Box


@dataclass(frozen=True)
class CropSettings:
    """How crops are cut; comes from the model's spec so training and live crops match."""

    margin_ratio: float = 1.3
    output_size: int = 224
    aligned: bool = False
    canvas_size: int = 0  # side of the native-resolution canvas the model also reads; 0: none


@dataclass(frozen=True, eq=False)
class FaceImages:
    """What the model reads of one face: its crop and, for models that ask for it, its native canvas."""

    crop: np.ndarray  # output_size² x 3 uint8 RGB
    canvas: np.ndarray | None = None  # canvas_size² x 3 uint8 RGB, native pixels around the face
    canvas_side: float = 0.0  # side of the margin crop inside the canvas, in canvas pixels


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


def face_images(
    frame_rgb: np.ndarray, box: Box, landmarks: tuple[tuple[float, float], ...], crop: CropSettings
) -> FaceImages:
    """What the model reads of one face: live inference and training data preparation both call this."""
    if not crop.canvas_size:
        angle = eye_angle_deg(landmarks) if crop.aligned else 0.0
        return FaceImages(square_crop(frame_rgb, box, crop.margin_ratio, crop.output_size, angle))
    if crop.aligned:
        raise ValueError("rotated (aligned) crops have no native-resolution canvas")
    canvas, side = native_canvas(frame_rgb, box, crop.margin_ratio, crop.canvas_size)
    return FaceImages(crop_from_canvas(canvas, side, crop.output_size), canvas, side)


@dataclass(frozen=True)
class CanvasPlacement:
    """Where a canvas lies in its frame: its top-left frame pixel, the frame window it covers, its scale."""

    left: int
    top: int
    window: int  # frame pixels covered by the canvas side
    scale: float  # canvas pixels per frame pixel (1: native)

    def to_canvas(self, points: np.ndarray) -> np.ndarray:
        """Frame-pixel (x, y) points in canvas pixels."""
        return (np.asarray(points, dtype=np.float32) - (self.left, self.top)) * self.scale

    def box_to_canvas(self, box: Box) -> Box:
        (left, top), (right, bottom) = self.to_canvas(np.array([(box.left, box.top), (box.right, box.bottom)]))
        return Box(float(left), float(top), float(right), float(bottom))


def canvas_placement(box: Box, margin_ratio: float, canvas_size: int) -> CanvasPlacement:
    """The canvas of a face: native pixels (scale 1) unless the margin crop is larger than the canvas.

    The centre is rounded to whole pixels: a sub-pixel shift would interpolate, which is a low-pass filter.
    """
    side = max(box.width, box.height) * margin_ratio
    window = canvas_size if side <= canvas_size else math.ceil(side)
    cx, cy = box.center
    return CanvasPlacement(round(cx - window / 2), round(cy - window / 2), window, canvas_size / window)


def native_canvas(frame_rgb: np.ndarray, box: Box, margin_ratio: float, canvas_size: int) -> tuple[np.ndarray, float]:
    """The ``canvas_size``² canvas centred on ``box`` and the margin crop's side inside it (canvas pixels).

    At scale 1 the canvas is a plain copy of frame pixels; a face whose margin crop is larger than
    the canvas is cut at full resolution and area-downscaled to fit. Outside the frame it is black.
    """
    placement = canvas_placement(box, margin_ratio, canvas_size)
    region = _padded_window(frame_rgb, placement.left, placement.top, placement.window)
    if placement.window != canvas_size:
        region = cv2.resize(region, (canvas_size, canvas_size), interpolation=cv2.INTER_AREA)
    return region, max(box.width, box.height) * margin_ratio * placement.scale


def _padded_window(frame_rgb: np.ndarray, left: int, top: int, size: int) -> np.ndarray:
    """``frame_rgb[top:top+size, left:left+size]``, black where it reaches outside the frame."""
    height, width = frame_rgb.shape[:2]
    out = np.zeros((size, size, 3), dtype=np.uint8)
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + size, width), min(top + size, height)
    if x1 > x0 and y1 > y0:
        out[y0 - top : y1 - top, x0 - left : x1 - left] = frame_rgb[y0:y1, x0:x1]
    return out


def crop_from_canvas(canvas: np.ndarray, side: float, output_size: int) -> np.ndarray:
    """The model's RGB crop: the canvas's central ``side``² square (whole pixels) resized to ``output_size``²."""
    size = canvas.shape[0]
    side_px = min(size, max(1, round(side)))
    start = (size - side_px) // 2
    region = canvas[start : start + side_px, start : start + side_px]
    interpolation = cv2.INTER_AREA if side_px > output_size else cv2.INTER_LINEAR
    return cv2.resize(region, (output_size, output_size), interpolation=interpolation)
