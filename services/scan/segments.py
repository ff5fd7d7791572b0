"""Per-track score series and suspicious segments with their peaks (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from realtime.frames import Verdict
from realtime.summary import VerdictSummary

# Verdict times are rounded to 0.1 ms upstream; segment bounds to 1 ms.
TIME_EPS_S = 1e-3


@dataclass(frozen=True)
class Segment:
    """A span where the most suspicious face stayed at or above the threshold (gaps under 1 s merged)."""

    start_s: float
    end_s: float
    peak_p_fake: float  # the highest window score inside the span
    peak_at_s: float  # end time of that window
    track_id: int  # the face it belongs to


def summarize(verdicts: list[Verdict]) -> VerdictSummary:
    summary = VerdictSummary()
    for verdict in verdicts:
        summary.add(verdict)
    return summary


def suspicious_segments(verdicts: list[Verdict], threshold: float) -> list[Segment]:
    """The engine's suspicious segments, each with the peak window inside it."""
    segments = []
    for start_s, end_s in summarize(verdicts).suspicious_segments(threshold):
        inside = [v for v in verdicts if v.start_pts_s >= start_s - TIME_EPS_S and v.end_pts_s <= end_s + TIME_EPS_S]
        peak = max(inside, key=lambda v: (v.p_fake, -v.end_pts_s))
        segments.append(Segment(start_s, end_s, peak.p_fake, peak.end_pts_s, peak.track_id))
    return segments


def by_track(verdicts: list[Verdict]) -> dict[int, list[Verdict]]:
    """Verdicts grouped by face track, each list in time order, tracks by id."""
    tracks: dict[int, list[Verdict]] = {}
    for verdict in sorted(verdicts, key=lambda v: (v.track_id, v.last_frame)):
        tracks.setdefault(verdict.track_id, []).append(verdict)
    return tracks
