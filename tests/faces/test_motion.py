"""How boxes move between detections: optical flow on shifted and zoomed images, and interpolation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faces.geometry import Box
from faces.motion import PointTracker, lerp_box


def textured(seed: int = 0, size: int = 240) -> np.ndarray:
    """A grey image with blob texture, so a box on it holds corners to follow."""
    noise = np.random.default_rng(seed).random((size // 8, size // 8)).astype(np.float32)
    return (cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 1) * 255).astype(np.uint8)


def test_the_box_moves_with_the_image():
    gray = textured()
    box = Box(80, 70, 160, 150)
    tracker = PointTracker.start(gray, box)
    assert tracker is not None
    moved = tracker.follow(np.roll(gray, (4, 7), axis=(0, 1)))  # 7 px right, 4 px down
    assert moved is not None
    assert (moved.left, moved.top) == pytest.approx((87, 74), abs=0.5)
    assert (moved.width, moved.height) == pytest.approx((80, 80), abs=1.0)


def test_the_box_grows_when_the_face_comes_closer():
    gray = textured(1)
    box = Box(80, 80, 160, 160)
    tracker = PointTracker.start(gray, box)
    zoom = cv2.getRotationMatrix2D(box.center, 0.0, 1.1)  # 10 % larger around the box centre
    moved = tracker.follow(cv2.warpAffine(gray, zoom, gray.shape[::-1]))
    assert moved is not None
    assert moved.width == pytest.approx(88, abs=2.0) and moved.center == pytest.approx(box.center, abs=1.0)


def test_a_box_without_corners_cannot_be_followed():
    assert PointTracker.start(np.full((120, 120), 128, np.uint8), Box(20, 20, 80, 80)) is None


def test_interpolated_boxes_lie_between_the_two_detections():
    start, end = Box(0, 0, 100, 100), Box(40, 20, 160, 140)
    assert lerp_box(start, end, 0.0) == start and lerp_box(start, end, 1.0) == end
    assert lerp_box(start, end, 0.25) == Box(10, 5, 115, 110)
