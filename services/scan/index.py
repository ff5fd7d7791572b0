"""The index of a folder scan: one row per video with its verdict and links to its reports (JSON + HTML)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from services.scan.atomic import write_text
from services.scan.report_html import STYLE, coverage_html, verdict_html
from services.scan.runner import FileOutcome

INDEX_SCHEMA_NAME = "deepfake-analyzer/scan-index"
INDEX_SCHEMA_VERSION = 2
INDEX_SCHEMA_PATH = Path(__file__).resolve().parent / "scan_index.schema.json"
INDEX_JSON = "scan-index.json"
INDEX_HTML = "scan-index.html"
HEADER = "<tr><th>file</th><th>verdict</th><th>video p_fake</th><th>max p_fake</th><th>segments</th><th>note</th></tr>"


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def _row(outcome: FileOutcome, root: Path, index_dir: Path) -> dict[str, Any]:
    report = outcome.report
    row: dict[str, Any] = {
        "file": _relative(outcome.video, root),
        "report_json": _relative(outcome.paths.json, index_dir),
        "report_html": _relative(outcome.paths.html, index_dir),
        "complete": bool(report and report["complete"]),
        "verdict": report["result"]["verdict"] if report else None,
        "headline": report["result"]["headline"] if report else None,
        "video_p_fake": report["result"]["video_p_fake"] if report else None,
        "max_p_fake": report["result"]["max_p_fake"] if report else None,
        "suspicious_segments": len(report["result"]["suspicious_segments"]) if report else 0,
        "duration_s": report["file"]["duration_s"] if report else None,
        "sha256": report["file"]["sha256"] if report else None,
    }
    if outcome.error:
        row["error"] = outcome.error
    return row


def build_index(
    root: Path, index_dir: Path, outcomes: list[FileOutcome], pending: list[Path], model: dict, settings: dict
) -> dict[str, Any]:
    """Index dict; ``pending`` lists the videos not reached yet (an interrupted scan)."""
    files = [_row(outcome, root, index_dir) for outcome in outcomes]
    files += [{"file": _relative(p, root), "complete": False, "error": "not scanned yet"} for p in pending]
    counts = {status: sum(o.status == status for o in outcomes) for status in ("scanned", "reused", "failed")}
    return {
        "schema": INDEX_SCHEMA_NAME,
        "schema_version": INDEX_SCHEMA_VERSION,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "root": str(root.resolve()),
        "complete": not pending and all(row["complete"] for row in files),
        "model": model,
        "settings": settings,
        "files": files,
        "run": {**counts, "interrupted": sum(o.status == "interrupted" for o in outcomes) + len(pending)},
    }


def index_html(index: dict[str, Any]) -> str:
    """A table of the folder's videos, most suspicious first, each linking to its HTML report."""
    rows = sorted(index["files"], key=lambda f: -(f.get("video_p_fake") or -1.0))
    body = "".join(
        "<tr><td>{name}</td><td>{verdict}</td><td class=num>{score}</td><td class=num>{peak}</td>"
        "<td class=num>{segments}</td><td>{note}</td></tr>".format(
            name=f"<a href='{escape(f['report_html'])}'>{escape(f['file'])}</a>"
            if f.get("report_html")
            else escape(f["file"]),
            verdict=verdict_html(f["verdict"], f.get("headline") or "-", index["model"]) if f.get("verdict") else "-",
            score="-" if f.get("video_p_fake") is None else f"{f['video_p_fake']:.3f}",
            peak="-" if f.get("max_p_fake") is None else f"{f['max_p_fake']:.3f}",
            segments=f.get("suspicious_segments", 0),
            note=escape(f.get("error", "" if f["complete"] else "incomplete")),
        )
        for f in rows
    )
    status = "complete" if index["complete"] else "incomplete: run the same command again to resume"
    return f"""<!DOCTYPE html>
<html lang=en><head><meta charset=utf-8><title>Deepfake scan of {escape(index["root"])}</title>
<style>{STYLE}</style></head><body>
<h1>Deepfake scan of {escape(index["root"])}</h1>
<p class=muted>{len(index["files"])} video(s), {status}; model {escape(index["model"]["source"])};
generated {escape(index["generated_at"])}</p>
{coverage_html(index["model"])}
<table id=files>{HEADER}
{body}</table>
</body></html>
"""


def write_index(index: dict[str, Any], index_dir: Path) -> None:
    """Both index files, atomically."""
    write_text(index_dir / INDEX_JSON, json.dumps(index, indent=1) + "\n")
    write_text(index_dir / INDEX_HTML, index_html(index))
