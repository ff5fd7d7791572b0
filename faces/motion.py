"""How a face box moves between two detections: followed with optical flow, or interpolated."""

from __future__ import annotations

import cv2
import numpy as np

from faces.geometry import Box


class PointTracker:
    """Moves one face box between detections with sparse optical flow (pyramidal Lucas-Kanade).

    Corners inside the box are followed from frame to frame; the box moves by their median motion
    and scales by the change of their spread. About a quarter of the cost of dlib's correlation
    tracker on a large face, and as close to the detector's boxes.
    """

    MAX_POINTS = 40
    MIN_POINTS = 6  # fewer followed corners than this: the face is lost

    def __init__(self, gray: np.ndarray, points: np.ndarray, box: Box) -> None:
        self.gray = gray
        self.points = points
        self.box = box

    @classmethod
    def start(cls, gray: np.ndarray, box: Box) -> PointTracker | None:
        """A tracker of ``box`` in the grey frame ``gray``; None when the box holds too few corners."""
        left, top, right, bottom = box.as_ints()
        mask = np.zeros_like(gray)
        mask[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = 255
        points = cv2.goodFeaturesToTrack(gray, cls.MAX_POINTS, 0.01, max(3, round(box.width / 20)), mask=mask)
        if points is None or len(points) < cls.MIN_POINTS:
            return None
        return cls(gray, points.astype(np.float32), box)

    def follow(self, gray: np.ndarray) -> Box | None:
        """The box in the next grey frame, or None when the face was lost."""
        moved, status, _ = cv2.calcOpticalFlowPyrLK(self.gray, gray, self.points, None, winSize=(15, 15), maxLevel=2)
        kept = status.ravel() == 1
        if kept.sum() < self.MIN_POINTS:
            return None
        before, after = self.points[kept].reshape(-1, 2), moved[kept].reshape(-1, 2)
        shift = np.median(after - before, axis=0)
        spread_before = np.median(np.linalg.norm(before - before.mean(axis=0), axis=1))
        spread_after = np.median(np.linalg.norm(after - after.mean(axis=0), axis=1))
        scale = float(np.clip(spread_after / spread_before, 0.8, 1.25)) if spread_before > 0 else 1.0
        cx, cy = self.box.center
        half_w, half_h = self.box.width * scale / 2, self.box.height * scale / 2
        cx, cy = cx + float(shift[0]), cy + float(shift[1])
        self.box = Box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)
        self.gray, self.points = gray, after.reshape(-1, 1, 2)
        return self.box


def lerp_box(start: Box, end: Box, t: float) -> Box:
    """The box a fraction ``t`` of the way from ``start`` to ``end``."""
    return Box(
        start.left + (end.left - start.left) * t,
        start.top + (end.top - start.top) * t,
        start.right + (end.right - start.right) * t,
        start.bottom + (end.bottom - start.bottom) * t,
    )
