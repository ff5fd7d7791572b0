"""Window-consistent augmentation of native canvases: mirror, whole-pixel shift, colour.

No resampling here (it would blur the native pixels the residual branch reads): resolution loss,
blur, noise and compression belong to the degradation chain (training/data/degrade.py), which both
members of a pair go through identically. Parameters are drawn once per window and applied to
every frame of it, like a camera whose settings do not change from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SHIFT_PX = 6  # the tracker's box jitter between frames is of this order


@dataclass(frozen=True)
class AugmentParams:
    """One window's augmentation choices."""

    flip: bool
    shift: tuple[int, int]  # whole pixels, (x, y)
    brightness: float  # added, 0-255 scale
    contrast: float
    saturation: float


def sample_augment_params(rng: np.random.Generator) -> AugmentParams:
    """Random augmentation for one window."""
    colour = rng.random() < 0.6
    return AugmentParams(
        flip=bool(rng.random() < 0.5),
        shift=(int(rng.integers(-MAX_SHIFT_PX, MAX_SHIFT_PX + 1)), int(rng.integers(-MAX_SHIFT_PX, MAX_SHIFT_PX + 1))),
        brightness=float(rng.uniform(-20, 20)) if colour else 0.0,
        contrast=float(rng.uniform(0.8, 1.2)) if colour else 1.0,
        saturation=float(rng.uniform(0.7, 1.3)) if colour else 1.0,
    )


def identity_params() -> AugmentParams:
    """No augmentation."""
    return AugmentParams(False, (0, 0), 0.0, 1.0, 1.0)


def _shifted(images: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Content moved by (dx, dy) whole pixels; the uncovered border repeats the edge."""
    height, width = images.shape[1:3]
    ys = np.clip(np.arange(height) - dy, 0, height - 1)
    xs = np.clip(np.arange(width) - dx, 0, width - 1)
    return images[:, ys][:, :, xs]


def augment_window(images: np.ndarray, params: AugmentParams, colour: bool = True) -> np.ndarray:
    """(T, H, W, C) images (uint8 canvases, or float masks with ``colour=False``) with the same augmentation."""
    out = images[:, :, ::-1] if params.flip else images
    if params.shift != (0, 0):
        out = _shifted(out, *params.shift)
    if colour and (params.brightness or params.contrast != 1.0 or params.saturation != 1.0):
        pixels = out.astype(np.float32)
        gray = pixels.mean(axis=3, keepdims=True)
        pixels = gray + (pixels - gray) * params.saturation
        mean = pixels.mean(axis=(1, 2, 3), keepdims=True)
        pixels = (pixels - mean) * params.contrast + mean + params.brightness
        out = np.clip(pixels, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)
