"""JSON-lines records: one per verdict as it is produced, one summary per source at the end."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, TextIO

from common.errors import OutputClosed, is_closed_pipe
from models.spec import ModelSpec
from realtime.frames import Verdict
from realtime.pipeline import StreamStats
from realtime.status import StreamStatus
from realtime.summary import VerdictSummary
from realtime.verdicts import coverage_record, rounded

UNTRAINED_WARNING = "model is untrained: p_fake values are not verdicts"


def verdict_record(verdict: Verdict, trained: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "verdict",
        "source": verdict.source,
        "track_id": verdict.track_id,
        "first_frame": verdict.first_frame,
        "last_frame": verdict.last_frame,
        "start_pts_s": verdict.start_pts_s,
        "end_pts_s": verdict.end_pts_s,
        "window_frames": verdict.window_frames,
        "p_fake": rounded(verdict.p_fake),
        "label": verdict.label,
        "latency_ms": verdict.latency_ms,
    }
    if verdict.name:
        record["image"] = verdict.name
    if not trained:
        record["warning"] = UNTRAINED_WARNING
    return record


def status_record(status: StreamStatus, source: str | None = None) -> dict[str, Any]:
    """The JSON line of a stream's status event (``source`` named where one output serves one stream)."""
    record: dict[str, Any] = {"type": "status"}
    if source is not None:
        record["source"] = source
    return record | status.record()


def model_record(spec: ModelSpec, model_source: str) -> dict[str, Any]:
    """How a summary names the model, with what its own evaluation says it was tested on."""
    return {
        "source": model_source,
        "backbone": spec.backbone,
        "trained": spec.trained,
        **coverage_record(spec.metrics),
    }


def summary_record(
    stats: StreamStats,
    summary: VerdictSummary,
    spec: ModelSpec,
    model_source: str,
    threshold: float,
    device: str,
    runtime: str,
    elapsed_s: float,
    interrupted: bool,
    still_images: bool,
) -> dict[str, Any]:
    judgement = summary.judgement(threshold, spec.trained, still_images)
    record: dict[str, Any] = {
        "type": "summary",
        "source": stats.name,
        "verdict": judgement.verdict,
        "headline": judgement.headline,
        "video_p_fake": rounded(summary.video_p_fake()),
        "max_p_fake": rounded(summary.max_p_fake()),
        "threshold": rounded(threshold),
        "faces_seen": stats.faces_seen,
        "frames_read": stats.frames_read,
        "frames_dropped": stats.frames_dropped,
        "frames_analyzed": stats.frames_analyzed,
        "windows_scored": summary.windows,
        "model": model_record(spec, model_source),
        "device": device,
        "runtime": runtime,
        "elapsed_s": round(elapsed_s, 3),
    }
    if still_images:
        record["fake_images"] = summary.images_at_or_above(threshold)
    else:
        record["suspicious_segments"] = summary.suspicious_segments(threshold)
    if stats.faces_capped:
        record["faces_capped"] = stats.faces_capped
    if stats.reconnects or stats.outages:
        record["reconnects"] = stats.reconnects
        record["outages"] = stats.outages
    if stats.decode_errors:
        record["decode_errors"] = stats.decode_errors
        record["decode_gaps"] = stats.decode_gaps
    if stats.timestamp_gaps:
        record["timestamp_gaps"] = stats.timestamp_gaps
    if stats.skipped_images:
        record["skipped_images"] = stats.skipped_images
    if interrupted:
        record["interrupted"] = True
    if stats.error:
        record["error"] = stats.error
    if not spec.trained:
        record["warning"] = UNTRAINED_WARNING
    return record


class JsonLinesWriter:
    """Writes one JSON object per line and flushes each, so nothing is lost on a crash.

    When the reader goes away (a closed pipe), this write and every later one raise OutputClosed:
    the caller stops the run quietly instead of failing with a traceback.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.closed = False
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(", ", ": "))
        with self._lock:
            if self.closed:
                raise OutputClosed
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except OSError as exc:
                if not is_closed_pipe(exc):
                    raise
                self.closed = True
                raise OutputClosed from None
