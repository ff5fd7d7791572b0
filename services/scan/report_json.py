"""The scan report as JSON: built from a finished scan, versioned, validated against a shipped schema.

The schema (``scan_report.schema.json`` beside this module, documented in docs/REPORTS.md) is
the contract; bump :data:`SCHEMA_VERSION` on any change that is not purely additive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from models.spec import ModelSpec
from realtime.config import EngineConfig
from realtime.inference import ScoringSettings
from realtime.output import UNTRAINED_WARNING
from realtime.verdicts import coverage_record, rounded
from services.scan.explain import Explanation
from services.scan.images import heatmap_overlay, png_base64
from services.scan.media import MediaInfo
from services.scan.scan import ScanResult
from services.scan.segments import by_track, summarize, suspicious_segments

SCHEMA_NAME = "deepfake-analyzer/scan-report"
SCHEMA_VERSION = 2
SCHEMA_PATH = Path(__file__).resolve().parent / "scan_report.schema.json"


@dataclass(frozen=True)
class ModelIdentity:
    """Which model scored: the checkpoint's sha256 when it is a file, else its description."""

    source: str
    sha256: str | None
    spec: ModelSpec

    @property
    def key(self) -> str:
        return self.sha256 or self.source

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "architecture": self.spec.architecture,
            "backbone": self.spec.backbone,
            "input_size": self.spec.input_size,
            "window": self.spec.window,
            "threshold": rounded(self.spec.threshold),
            "temperature": self.spec.temperature,
            "trained": self.spec.trained,
            "training_data": self.spec.training_data,
            **coverage_record(self.spec.metrics),
        }


def scan_settings(config: EngineConfig, scoring: ScoringSettings, explanations: int) -> dict[str, Any]:
    """Every setting that changes the scores; a report is reused on resume only when these match."""
    return {
        "sample_every": config.sample_every,
        "window": scoring.window,
        "stride": scoring.stride,
        "threshold": scoring.threshold,
        "detect_every": config.detect_every,
        "detector": config.detector_model,
        "detect_max_side": config.detect_max_side,
        "max_faces": config.max_faces,
        "track_motion": config.track_motion,
        "face_motion": config.face_motion,
        "explanations": explanations,
    }


def build_report(
    media: MediaInfo,
    model: ModelIdentity,
    settings: dict[str, Any],
    result: ScanResult,
    explanations: list[Explanation],
    device: str,
    runtime: str,
) -> dict[str, Any]:
    """The report dict (plain JSON types) of one scanned file."""
    threshold = result.threshold
    summary = summarize(result.verdicts)
    judgement = summary.judgement(threshold, model.spec.trained)
    seen: dict[int, list[float]] = {}
    for frame in result.frames:
        for face in frame.faces:
            seen.setdefault(face[0], []).append(frame.pts_s)
    tracks = []
    for track_id, verdicts in by_track(result.verdicts).items():
        scores = [v.p_fake for v in verdicts]
        times = seen.get(track_id, [verdicts[0].start_pts_s, verdicts[-1].end_pts_s])
        tracks.append(
            {
                "track_id": track_id,
                "first_seen_s": round(min(times), 3),
                "last_seen_s": round(max(times), 3),
                "frames_analyzed": len(seen.get(track_id, [])),
                "max_p_fake": max(scores),
                "mean_p_fake": round(sum(scores) / len(scores), 4),
                "windows": [
                    {
                        "first_frame": v.first_frame,
                        "last_frame": v.last_frame,
                        "start_s": v.start_pts_s,
                        "end_s": v.end_pts_s,
                        "frames": v.window_frames,
                        "p_fake": v.p_fake,
                        "label": v.label,
                    }
                    for v in verdicts
                ],
            }
        )
    video_s = result.frames[-1].pts_s if result.frames else 0.0
    report: dict[str, Any] = {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "complete": not result.interrupted and result.error is None,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "file": {
            **media.to_dict(),
            "damaged_packets": result.stats.decode_errors,
            "damaged_spans_s": [list(span) for span in result.stats.decode_gaps],
            "skipped_spans_s": [list(span) for span in result.stats.timestamp_gaps],
        },
        "model": model.to_dict(),
        "settings": settings,
        "result": {
            "verdict": judgement.verdict,
            "headline": judgement.headline,
            "video_p_fake": rounded(summary.video_p_fake()),
            "max_p_fake": rounded(summary.max_p_fake()),
            "threshold": rounded(threshold),
            "faces_seen": len(tracks),
            "suspicious_segments": [
                {
                    "start_s": s.start_s,
                    "end_s": s.end_s,
                    "peak_p_fake": s.peak_p_fake,
                    "peak_at_s": s.peak_at_s,
                    "track_id": s.track_id,
                }
                for s in suspicious_segments(result.verdicts, threshold)
            ],
        },
        "tracks": tracks,
        "explanations": [
            {
                "method": e.method,
                "track_id": e.verdict.track_id,
                "first_frame": e.verdict.first_frame,
                "last_frame": e.verdict.last_frame,
                "end_s": e.verdict.end_pts_s,
                "p_fake": e.verdict.p_fake,
                "frame_index": e.frame_index,
                "box": [round(x, 1) for x in e.box],
                "crop_png": png_base64(e.crop),
                "heatmap_png": png_base64(heatmap_overlay(e.crop, e.heatmap)),
            }
            for e in explanations
        ],
        "run": {
            "frames_read": result.stats.frames_read,
            "frames_analyzed": result.stats.frames_analyzed,
            "windows_scored": len(result.verdicts),
            "device": device,
            "runtime": runtime,
            "elapsed_s": round(result.elapsed_s, 3),
            "video_s_per_wall_s": round(video_s / result.elapsed_s, 3) if result.elapsed_s > 0 else None,
        },
    }
    if result.interrupted:
        report["interrupted"] = True
    if result.error:
        report["error"] = result.error
    if not model.spec.trained:
        report["warning"] = UNTRAINED_WARNING
    return report


@cache
def schema() -> dict[str, Any]:
    with open(SCHEMA_PATH) as handle:
        return json.load(handle)


def validate(report: dict[str, Any]) -> None:
    """Raises ``jsonschema.ValidationError`` when ``report`` does not follow the schema."""
    import jsonschema

    jsonschema.validate(report, schema(), cls=jsonschema.Draft202012Validator)


def reusable(report_path: Path, sha256: str, model_key: str, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The existing complete report at ``report_path`` when it is for this file, model and settings."""
    try:
        with open(report_path) as handle:
            report = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or report.get("schema_version") != SCHEMA_VERSION or not report.get("complete"):
        return None
    model = report.get("model") or {}
    same_model = (model.get("sha256") or model.get("source")) == model_key
    if report.get("file", {}).get("sha256") != sha256 or not same_model or report.get("settings") != settings:
        return None
    return report
