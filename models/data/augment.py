"""Window-consistent augmentation: geometry, colour, blur, resolution loss and JPEG compression.

Parameters are drawn once per window and applied to every crop of it, like a real stream whose
camera, codec and bitrate do not change from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentParams:
    """One window's augmentation choices."""

    zoom: float  # >= 1: fraction of the stored crop kept is 1 / zoom
    shift: tuple[float, float]  # crop centre offset, fraction of the crop side
    flip: bool
    brightness: float  # added, 0-255 scale
    contrast: float
    saturation: float
    blur_sigma: float  # 0: none
    downscale: float  # 1: none, else resize to this fraction and back
    jpeg_quality: int  # 0: none


def sample_augment_params(rng: np.random.Generator) -> AugmentParams:
    """Random augmentation for one window."""
    color = rng.random() < 0.6
    return AugmentParams(
        zoom=float(rng.uniform(1.0, 1.12)),
        shift=(float(rng.uniform(-0.04, 0.04)), float(rng.uniform(-0.04, 0.04))),
        flip=bool(rng.random() < 0.5),
        brightness=float(rng.uniform(-20, 20)) if color else 0.0,
        contrast=float(rng.uniform(0.8, 1.2)) if color else 1.0,
        saturation=float(rng.uniform(0.7, 1.3)) if color else 1.0,
        blur_sigma=float(rng.uniform(0.3, 1.2)) if rng.random() < 0.2 else 0.0,
        downscale=float(rng.uniform(0.45, 0.85)) if rng.random() < 0.25 else 1.0,
        jpeg_quality=int(rng.integers(40, 96)) if rng.random() < 0.5 else 0,
    )


def identity_params() -> AugmentParams:
    """No augmentation: only the resize to the model's input size."""
    return AugmentParams(1.0, (0.0, 0.0), False, 0.0, 1.0, 1.0, 0.0, 1.0, 0)


def augment_crop(image: np.ndarray, params: AugmentParams, output_size: int) -> np.ndarray:
    """One uint8 RGB crop -> augmented ``output_size``² uint8 RGB crop."""
    side = image.shape[0]
    keep = side / params.zoom
    cx = side / 2 + params.shift[0] * side
    cy = side / 2 + params.shift[1] * side
    scale = output_size / keep
    matrix = np.array([[scale, 0.0, output_size / 2 - cx * scale], [0.0, scale, output_size / 2 - cy * scale]])
    out = cv2.warpAffine(
        image,
        matrix,
        (output_size, output_size),
        flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    if params.flip:
        out = out[:, ::-1]
    if params.brightness or params.contrast != 1.0 or params.saturation != 1.0:
        pixels = out.astype(np.float32)
        gray = pixels.mean(axis=2, keepdims=True)
        pixels = gray + (pixels - gray) * params.saturation
        pixels = (pixels - pixels.mean()) * params.contrast + pixels.mean() + params.brightness
        out = np.clip(pixels, 0, 255).astype(np.uint8)
    if params.downscale < 1.0:
        small = max(8, round(output_size * params.downscale))
        out = cv2.resize(
            cv2.resize(out, (small, small), interpolation=cv2.INTER_AREA),
            (output_size, output_size),
            interpolation=cv2.INTER_LINEAR,
        )
    if params.blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), params.blur_sigma)
    if params.jpeg_quality:
        # OpenCV's encoder expects BGR; encoding RGB as-is would weight the wrong channels into luma.
        bgr = cv2.cvtColor(np.ascontiguousarray(out), cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, params.jpeg_quality])
        if ok:
            out = cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(out)


def augment_window(images: np.ndarray, params: AugmentParams, output_size: int) -> np.ndarray:
    """(T, H, W, 3) uint8 -> (T, output_size, output_size, 3) uint8 with the same augmentation."""
    return np.stack([augment_crop(image, params, output_size) for image in images])
