"""Where a video's report set lives and how it is written (every file atomically, the JSON last)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.scan.atomic import remove_leftovers, write_text
from services.scan.files import is_video_file
from services.scan.report_csv import report_csv
from services.scan.report_html import report_html
from services.scan.report_srt import report_srt

REPORT_TAG = "deepfake"  # clip.mp4 -> clip.deepfake.json, ... (players pick up clip.deepfake.srt as a subtitle)


@dataclass(frozen=True)
class ReportPaths:
    """The four files of one video's report set."""

    json: Path
    csv: Path
    html: Path
    srt: Path

    def all_exist(self) -> bool:
        return all(p.is_file() for p in (self.json, self.csv, self.html, self.srt))


def report_paths(video: Path, out_dir: Path | None, root: Path | None = None) -> ReportPaths:
    """Reports next to ``video``, or in ``out_dir`` mirroring ``video``'s folder below ``root``.

    Two videos of one folder with the same stem (clip.mp4, clip.mkv) keep their extension in the name.
    """
    twins = [p for p in video.parent.iterdir() if p.stem == video.stem and is_video_file(p)]
    base = video.name if len(twins) > 1 else video.stem
    if out_dir is None:
        folder = video.parent
    elif root is None:
        folder = out_dir
    else:
        folder = out_dir / video.parent.relative_to(root)
    stem = f"{base}.{REPORT_TAG}"
    return ReportPaths(folder / f"{stem}.json", folder / f"{stem}.csv", folder / f"{stem}.html", folder / f"{stem}.srt")


@dataclass(frozen=True)
class RenderedReports:
    """The text of the four files of one report set, ready to be written (or sent to whoever writes them)."""

    json: str
    csv: str
    html: str
    srt: str


def render_report_set(report: dict[str, Any], paths: ReportPaths) -> RenderedReports:
    """The four files' text; ``paths`` only names the companions the HTML links to."""
    companions = {"JSON": paths.json.name, "CSV": paths.csv.name, "SRT subtitles": paths.srt.name}
    return RenderedReports(
        json=json.dumps(report, indent=1) + "\n",
        csv=report_csv(report),
        html=report_html(report, companions),
        srt=report_srt(report),
    )


def write_rendered(rendered: RenderedReports, paths: ReportPaths) -> None:
    """CSV, SRT and HTML first, the JSON last: a JSON present means the whole set is (resume relies on it)."""
    for path in (paths.csv, paths.srt, paths.html, paths.json):
        remove_leftovers(path)
    write_text(paths.csv, rendered.csv)
    write_text(paths.srt, rendered.srt)
    write_text(paths.html, rendered.html)
    write_text(paths.json, rendered.json)


def write_report_set(report: dict[str, Any], paths: ReportPaths) -> None:
    """Renders and writes the report set of ``report`` (see :func:`write_rendered`)."""
    write_rendered(render_report_set(report, paths), paths)
