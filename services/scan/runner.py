"""Scans files one after another, writing each report set as it finishes and skipping files already done.

Resume: a file whose complete JSON report exists for the same sha256, model and settings is not
scanned again, so re-running an interrupted (or killed) folder scan continues where it stopped and
ends with the same reports as a run that was never interrupted.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realtime.engine import Engine
from realtime.sources.base import SourceError
from services.scan.explain import Explainer, Explanation
from services.scan.media import MediaInfo, probe
from services.scan.progress import ProgressBar
from services.scan.report_json import ModelIdentity, build_report, reusable, scan_settings
from services.scan.reports import ReportPaths, write_report_set
from services.scan.scan import FileScan, ScanResult

ReportWriter = Callable[[dict[str, Any], ReportPaths], None]


@dataclass(frozen=True)
class FileOutcome:
    """What became of one file: ``scanned``, ``reused`` (resume), ``interrupted`` or ``failed``."""

    video: Path
    paths: ReportPaths
    status: str
    report: dict[str, Any] | None = None
    result: ScanResult | None = None  # the fresh scan, when there was one
    error: str | None = None


def reused_outcome(
    video: Path, paths: ReportPaths, media: MediaInfo, model_key: str, settings: dict[str, Any]
) -> FileOutcome | None:
    """``reused`` when ``video`` has a complete report set for its sha256, the model and the settings."""
    if not paths.all_exist():
        return None
    previous = reusable(paths.json, media.sha256, model_key, settings)
    return FileOutcome(video, paths, "reused", previous) if previous is not None else None


class Scanner:
    """Owns the model for a run of scans; ``stop()`` (from a signal handler) ends the current file early."""

    def __init__(
        self,
        engine: Engine,
        model: ModelIdentity,
        explanations: int,
        rescan: bool = False,
        progress: ProgressBar | None = None,
    ) -> None:
        self.engine = engine
        self.model = model
        self.explanations = explanations
        self.rescan = rescan
        self.progress = progress or ProgressBar()
        self.settings = scan_settings(engine.config, engine.settings, explanations)
        self.stop_event = threading.Event()
        self._current: FileScan | None = None
        self._said_no_heatmaps = False
        self._heatmap_explainer: Explainer | None = None

    @property
    def stopped(self) -> bool:
        return self.stop_event.is_set()

    def stop(self) -> None:
        """Safe from a signal handler (no lock: the handler may interrupt the main thread anywhere)."""
        self.stop_event.set()
        current = self._current
        if current is not None:
            current.stop()

    def scan(
        self, video: Path, paths: ReportPaths, label: str = "", write: ReportWriter = write_report_set
    ) -> FileOutcome:
        """Scans ``video`` (or reuses its report) and has ``write`` store its report set at ``paths``.

        ``write`` (default: write the files) lets a Ray task hand the reports to its driver instead.
        """
        try:
            media = probe(video)
        except (SourceError, OSError) as exc:
            return FileOutcome(video, paths, "failed", error=str(exc))
        reused = None if self.rescan else reused_outcome(video, paths, media, self.model.key, self.settings)
        if reused is not None:
            return reused
        if self.stopped:
            return FileOutcome(video, paths, "interrupted", error="stopped before this file")
        result = self._run(video, media, label)
        if result.error and not result.frames:
            return FileOutcome(video, paths, "failed", error=result.error)
        found = []
        if self.explanations and result.verdicts and not result.interrupted:
            found = self._explain(video, result)
        report = build_report(media, self.model, self.settings, result, found, self.engine.device, self.engine.runtime)
        try:
            write(report, paths)
        except OSError as exc:
            return FileOutcome(video, paths, "failed", error=f"cannot write reports: {exc}")
        status = "interrupted" if result.interrupted else "failed" if result.error else "scanned"
        return FileOutcome(video, paths, status, report, result, result.error)

    def _explain(self, video: Path, result: ScanResult) -> list[Explanation]:
        """Heatmaps of the most suspicious windows; none (said once on stderr) without torch or an explainer
        for the model's architecture."""
        explainer = self._explainer()
        if explainer is None:
            return []
        import torch

        from services.scan.heatmaps import explain

        # The engine's thread count, wherever the scan runs (a Ray worker defaults to one): float sums
        # of another thread count round differently, and the same file would get other heatmaps.
        torch.set_num_threads(self.engine.threads)
        return explain(video, result, explainer, self.engine.spec, self.explanations)

    def _explainer(self) -> Explainer | None:
        """The model's explainer, built at the first explained file (it copies the model in float32)."""
        if self._heatmap_explainer is None and not self._said_no_heatmaps:
            detector = self.engine.torch_model()
            if detector is None:
                self._no_heatmaps("heatmaps need torch (full install)")
                return None
            import torch

            from services.scan.heatmaps import NoExplainer, explainer_for

            device = torch.device(self.engine.device)
            spec, embed = self.engine.spec, self.engine.scorer.embed
            try:
                self._heatmap_explainer = explainer_for(detector.model, spec, device, embed)
            except NoExplainer as exc:
                self._no_heatmaps(str(exc))
        return self._heatmap_explainer

    def _no_heatmaps(self, reason: str) -> None:
        print(f"warning: {reason}; reports have none", file=sys.stderr)
        self._said_no_heatmaps = True

    def _run(self, video: Path, media: MediaInfo, label: str) -> ScanResult:
        file_scan = FileScan(video, self.engine, on_progress=self.progress.update)
        self._current = file_scan
        if self.stopped:  # stop() ran before it could see this scan
            file_scan.stop()
        self.progress.begin(label or video.name, media.frame_count)
        try:
            return file_scan.run()
        finally:
            self.progress.end()
            self._current = None
