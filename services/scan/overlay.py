"""Draws face boxes, scores and a p_fake gauge onto a frame (RGB, in place)."""

from __future__ import annotations

import cv2
import numpy as np

from realtime.colors import score_color, verdict_color

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


def draw_verdict(image: np.ndarray, verdict: str, headline: str) -> None:
    """The video's verdict in words along the bottom-left corner, on a strip in the verdict's colour."""
    height, width = image.shape[:2]
    scale = max(0.45, min(height, width) / 720)
    thickness = max(1, round(scale * 2))
    text = f"video: {headline}"
    (text_w, text_h), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    margin = max(6, width // 100)
    if text_w + 2 * margin > width:  # a narrow frame: shrink the text to fit
        scale *= (width - 2 * margin) / (text_w + 2 * margin)
        (text_w, text_h), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    bottom = height - margin
    top = bottom - text_h - baseline - 8
    cv2.rectangle(image, (margin, top), (margin + text_w + 10, bottom), verdict_color(verdict), cv2.FILLED)
    ink = (32, 32, 32) if verdict == "uncertain" else (255, 255, 255)  # white hardly shows on amber
    cv2.putText(image, text, (margin + 5, bottom - baseline - 4), FONT, scale, ink, thickness, cv2.LINE_AA)


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
