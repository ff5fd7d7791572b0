"""Drawn face crops with a plausible 68-point landmark layout, for tests that need no real data."""

from __future__ import annotations

import cv2
import numpy as np


def landmarks_68(size: int, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """68 points in dlib's order (jaw, brows, nose, eyes, mouth) around the crop centre."""
    cx, cy = size / 2 + shift[0], size / 2 + shift[1]
    r = size * 0.3
    jaw_angles = np.linspace(np.pi, 0.0, 17)
    jaw = np.stack([cx + r * np.cos(jaw_angles), cy + 1.1 * r * np.sin(jaw_angles)], 1)
    brows = np.stack([np.linspace(cx - 0.7 * r, cx + 0.7 * r, 10), np.full(10, cy - 0.45 * r)], 1)
    bridge = np.stack([np.full(4, cx), np.linspace(cy - 0.35 * r, cy + 0.1 * r, 4)], 1)
    nostrils = np.stack([np.linspace(cx - 0.2 * r, cx + 0.2 * r, 5), np.full(5, cy + 0.2 * r)], 1)
    eye_angles = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    eyes = [
        np.stack([ex + 0.15 * r * np.cos(eye_angles), cy - 0.25 * r + 0.06 * r * np.sin(eye_angles)], 1)
        for ex in (cx - 0.35 * r, cx + 0.35 * r)
    ]
    mouth_angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    mouth = np.stack([cx + 0.3 * r * np.cos(mouth_angles), cy + 0.5 * r + 0.1 * r * np.sin(mouth_angles)], 1)
    points = np.concatenate([jaw, brows, bridge, nostrils, *eyes, mouth]).astype(np.float32)
    assert points.shape == (68, 2)
    return points


def face_crop(size: int, seed: int = 0, shift: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """A textured RGB crop with a skin-toned face ellipse, eyes and mouth, and its 68 landmarks."""
    rng = np.random.default_rng(seed)
    image = rng.integers(40, 90, size=(size, size, 3), dtype=np.uint8)
    points = landmarks_68(size, shift)
    tone = tuple(int(v) for v in rng.integers((150, 110, 90), (230, 170, 140)))
    cv2.fillConvexPoly(image, cv2.convexHull(points.astype(np.int32)), tone)
    for eye in (points[36:42], points[42:48]):
        cv2.fillConvexPoly(image, cv2.convexHull(eye.astype(np.int32)), (30, 30, 30))
    cv2.fillConvexPoly(image, cv2.convexHull(points[48:68].astype(np.int32)), (150, 50, 60))
    noise = rng.normal(0, 4, size=image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8), points
