"""The timeline plot of a report: each face's p_fake over time, the threshold, suspicious spans."""

from __future__ import annotations

import io
from typing import Any

TRACK_COLORS = ("#1f77b4", "#ff7f0e", "#9467bd", "#17becf", "#e377c2", "#8c564b", "#bcbd22", "#7f7f7f")
SEGMENT_COLOR = "#e31a1c"


def timeline_png(report: dict[str, Any], width_px: int = 1000, height_px: int = 320) -> bytes:
    """PNG bytes of the timeline (matplotlib, Agg: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    dpi = 100
    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    axes = figure.add_subplot()
    result = report["result"]
    duration = report["file"]["duration_s"] or max(
        (w["end_s"] for t in report["tracks"] for w in t["windows"]), default=1.0
    )
    for segment in result["suspicious_segments"]:
        axes.axvspan(
            segment["start_s"], max(segment["end_s"], segment["start_s"] + 0.1), color=SEGMENT_COLOR, alpha=0.15
        )
    for track in report["tracks"]:
        times = [w["end_s"] for w in track["windows"]]
        scores = [w["p_fake"] for w in track["windows"]]
        color = TRACK_COLORS[(track["track_id"] - 1) % len(TRACK_COLORS)]
        axes.plot(
            times,
            scores,
            color=color,
            linewidth=2.0,
            marker="o" if len(times) < 3 else None,
            label=f"face #{track['track_id']}",
        )
    axes.axhline(result["threshold"], color=SEGMENT_COLOR, linestyle="--", linewidth=1.2, label="threshold")
    axes.set_xlim(0.0, max(duration, 0.1))
    axes.set_ylim(0.0, 1.0)
    axes.set_xlabel("time (s)")
    axes.set_ylabel("p_fake")
    axes.grid(alpha=0.3)
    if report["tracks"]:
        # Above the plot area, so it never covers a curve.
        axes.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            fontsize="small",
            frameon=False,
            ncols=min(6, len(report["tracks"]) + 1),
        )
    else:
        axes.text(0.5, 0.5, "no face found", transform=axes.transAxes, ha="center", va="center")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
