"""Small image helpers for reports: PNG as base64 text, heatmap overlays."""

from __future__ import annotations

import base64

import cv2
import numpy as np


def png_base64(image_rgb: np.ndarray) -> str:
    """An RGB uint8 image as base64 PNG text (for data: URIs and JSON)."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return base64.b64encode(encoded.tobytes()).decode("ascii")


def decode_png_base64(text: str) -> np.ndarray:
    """The inverse of :func:`png_base64` (RGB uint8)."""
    data = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def heatmap_overlay(crop_rgb: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """``heat`` (H x W, 0-1) coloured with the jet map and blended over the crop."""
    heat_u8 = np.clip(heat * 255.0, 0, 255).astype(np.uint8)
    if heat_u8.shape != crop_rgb.shape[:2]:
        heat_u8 = cv2.resize(heat_u8, (crop_rgb.shape[1], crop_rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    colored = cv2.cvtColor(cv2.applyColorMap(heat_u8, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(crop_rgb, 1.0 - alpha, colored, alpha, 0.0)
