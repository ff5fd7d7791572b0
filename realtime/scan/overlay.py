"""Draws face boxes, scores and a p_fake gauge onto a frame (RGB, in place)."""

from __future__ import annotations

import cv2
import numpy as np

from realtime.colors import score_color

FONT = cv2.FONT_HERSHEY_SIMPLEX


def line_width(image: np.ndarray) -> int:
    """Box line thickness that stays visible from 360p to 4K."""
    return max(2, round(min(image.shape[:2]) / 180))


def _label(image: np.ndarray, text: str, x: int, y: int, color: tuple[int, int, int], scale: float) -> None:
    thickness = max(1, round(scale * 2))
    (width, height), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    top = max(0, y - height - baseline - 4)
    cv2.rectangle(image, (x, top), (x + width + 6, top + height + baseline + 4), color, cv2.FILLED)
    cv2.putText(image, text, (x + 3, top + height + 2), FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def draw_face(
    image: np.ndarray, track_id: int, box: tuple[float, float, float, float], p_fake: float | None, threshold: float
) -> None:
    """A box in the score's colour with ``#id p_fake`` above it."""
    color = score_color(p_fake, threshold)
    left, top, right, bottom = (round(v) for v in box)
    cv2.rectangle(image, (left, top), (right, bottom), color, line_width(image))
    text = f"#{track_id} " + ("..." if p_fake is None else f"{p_fake:.2f}")
    _label(image, text, max(0, left), top, color, scale=max(0.4, min(image.shape[:2]) / 900))


def draw_gauge(image: np.ndarray, p_fake: float | None, threshold: float) -> None:
    """A horizontal bar in the top-left corner: the highest face score now, with the threshold marked."""
    height, width = image.shape[:2]
    margin = max(6, width // 100)
    bar_w, bar_h = max(60, width // 4), max(10, height // 30)
    x0, y0 = margin, margin
    cv2.rectangle(image, (x0, y0), (x0 + bar_w, y0 + bar_h), (40, 40, 40), cv2.FILLED)
    if p_fake is not None:
        fill = round(bar_w * min(max(p_fake, 0.0), 1.0))
        cv2.rectangle(image, (x0, y0), (x0 + fill, y0 + bar_h), score_color(p_fake, threshold), cv2.FILLED)
    tick = x0 + round(bar_w * threshold)
    cv2.line(image, (tick, y0 - 2), (tick, y0 + bar_h + 2), (255, 255, 255), 2)
    cv2.rectangle(image, (x0, y0), (x0 + bar_w, y0 + bar_h), (255, 255, 255), 1)
    text = "p_fake " + ("--" if p_fake is None else f"{p_fake:.2f}")
    scale = max(0.35, bar_h / 30)
    cv2.putText(image, text, (x0 + bar_w + margin, y0 + bar_h - 2), FONT, scale, (255, 255, 255), 2, cv2.LINE_AA)
