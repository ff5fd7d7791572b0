"""Colours that say how suspicious a score is: shared by the window and exported videos (pure, no Qt)."""

from __future__ import annotations

GREEN = (40, 200, 70)
AMBER = (255, 176, 0)
RED = (230, 30, 30)
NO_SCORE = (170, 170, 170)  # a face not scored yet

# Distinct line colours for the faces on the timeline, by track id.
TRACK_PALETTE = (
    (31, 119, 180),
    (255, 127, 14),
    (148, 103, 189),
    (23, 190, 207),
    (227, 119, 194),
    (140, 86, 75),
    (188, 189, 34),
    (127, 127, 127),
)


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], weight: float) -> tuple[int, int, int]:
    return (
        round(a[0] + (b[0] - a[0]) * weight),
        round(a[1] + (b[1] - a[1]) * weight),
        round(a[2] + (b[2] - a[2]) * weight),
    )


def score_color(p_fake: float | None, threshold: float) -> tuple[int, int, int]:
    """RGB for a score: green well below the threshold, through amber as it nears it, red at or above it."""
    if p_fake is None:
        return NO_SCORE
    if p_fake >= threshold:
        return RED
    ratio = p_fake / threshold
    if ratio <= 0.5:
        return GREEN
    if ratio <= 0.85:
        return _blend(GREEN, AMBER, (ratio - 0.5) / 0.35)
    return _blend(AMBER, RED, (ratio - 0.85) / 0.15 * 0.5)


VERDICT_COLORS = {"real": GREEN, "uncertain": AMBER, "fake": RED}


def verdict_color(verdict: str) -> tuple[int, int, int]:
    """RGB of a video verdict (realtime.verdicts): green real, amber uncertain, red fake, grey otherwise."""
    return VERDICT_COLORS.get(verdict, NO_SCORE)


def track_color(track_id: int) -> tuple[int, int, int]:
    return TRACK_PALETTE[(track_id - 1) % len(TRACK_PALETTE)]
