"""The per-window scores of a report as CSV, one row per scored window of each face."""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS = (
    "track_id",
    "first_frame",
    "last_frame",
    "start_s",
    "end_s",
    "frames",
    "p_fake",
    "label",
    "suspicious",
    "video_verdict",
)


def report_csv(report: dict[str, Any]) -> str:
    """CSV text; ``suspicious`` is 1 when the window's p_fake reached the scan's threshold (at or above the
    exact ``settings.threshold``; ``result.threshold`` is rounded for reading); ``video_verdict`` repeats the
    report's verdict of the whole video on every row."""
    threshold = report["settings"]["threshold"]
    video_verdict = report["result"]["verdict"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = [(track["track_id"], window) for track in report["tracks"] for window in track["windows"]]
    for track_id, window in sorted(rows, key=lambda row: (row[1]["end_s"], row[0])):
        writer.writerow(
            (
                track_id,
                window["first_frame"],
                window["last_frame"],
                f"{window['start_s']:.3f}",
                f"{window['end_s']:.3f}",
                window["frames"],
                f"{window['p_fake']:.4f}",
                window["label"],
                int(window["p_fake"] >= threshold),
                video_verdict,
            )
        )
    return out.getvalue()
