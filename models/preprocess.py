"""The model's input normalisation, written once: numpy only, so ONNX Runtime, torch, training and
evaluation all feed the detector the same numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def crop_input(crops: Sequence[np.ndarray] | np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """(N, S, S, 3) uint8 RGB crops -> (N, 3, S, S) float32, (x / 255 - mean) / std per channel."""
    std_array = np.asarray(std, np.float32)
    scale = (1.0 / (255.0 * std_array)).reshape(1, 3, 1, 1)
    offset = (-np.asarray(mean, np.float32) / std_array).reshape(1, 3, 1, 1)
    batch = np.asarray(crops).transpose(0, 3, 1, 2).astype(np.float32)
    return np.ascontiguousarray(batch * scale + offset)


def canvas_input(canvases: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """(N, C, C, 3) uint8 RGB canvases -> (N, 3, C, C) float32 in [0, 1] (the residual branch's input)."""
    batch = np.asarray(canvases).transpose(0, 3, 1, 2).astype(np.float32)
    return np.ascontiguousarray(batch * (1.0 / 255.0))
