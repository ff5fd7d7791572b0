"""The Ray task of ``--scan --backend ray``: one video file through the same Scanner as a local scan.

A worker process builds its scanner (model on its device, scorer, heatmap explainer) for the first file it
gets and keeps it for the next files of the same scan, so a checkpoint is loaded once per worker
process, not once per file. The task writes nothing: it returns the rendered report files, and the
driver writes them where a local scan would, so workers need no access to the report folder. The
video itself is read by its path, which must therefore be readable on the worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtime.config import EngineConfig
from realtime.engine import Detector, build_engine
from services.scan.report_json import ModelIdentity
from services.scan.reports import RenderedReports, ReportPaths, render_report_set
from services.scan.runner import Scanner


@dataclass(frozen=True)
class ScanJob:
    """What every task of one folder scan shares."""

    model: list[Any]  # [ObjectRef of the detector]: inside a list, Ray fetches it only when a worker needs it
    identity: ModelIdentity
    config: EngineConfig
    explanations: int
    threads: int  # torch / ONNX Runtime threads of one task (the CPUs it reserves)

    def signature(self) -> tuple[Any, ...]:
        """Equal for tasks that can share a scanner."""
        return self.identity.key, self.config, self.explanations, self.threads


@dataclass(frozen=True)
class TaskResult:
    """What a task sends back: the file's outcome and its report set, rendered, for the driver to write."""

    status: str  # scanned, failed (as FileOutcome.status; a task never reuses or gets interrupted)
    report: dict[str, Any] | None
    rendered: RenderedReports | None
    error: str | None
    worker_pid: int
    scanner_built: bool  # this task loaded the model (the first of its worker process)


@dataclass
class _WorkerScanner:
    """This worker process's scanner and the job it was built for."""

    signature: tuple[Any, ...] | None = None
    scanner: Scanner | None = field(default=None, repr=False)


_worker = _WorkerScanner()


def _build_scanner(job: ScanJob) -> Scanner:
    import ray

    detector: Detector = ray.get(job.model[0])
    engine = build_engine(job.config, detector=detector, threads=job.threads, for_scan=True)
    # The driver already decided which files need scanning (resume), so a task always scans.
    return Scanner(engine, job.identity, job.explanations, rescan=True)


def _scanner_for(job: ScanJob) -> tuple[Scanner, bool]:
    """This worker's scanner for ``job`` and whether it was built just now."""
    signature = job.signature()
    if _worker.scanner is not None and _worker.signature == signature:
        return _worker.scanner, False
    _worker.scanner = None  # drop the previous job's model before loading the next
    _worker.scanner, _worker.signature = _build_scanner(job), signature
    return _worker.scanner, True


def scan_file(job: ScanJob, video: str, paths: ReportPaths) -> TaskResult:
    """Scans ``video`` and returns its reports for ``paths`` (run as a Ray task)."""
    scanner, built = _scanner_for(job)
    rendered: list[RenderedReports] = []
    outcome = scanner.scan(
        Path(video), paths, write=lambda report, target: rendered.append(render_report_set(report, target))
    )
    return TaskResult(
        outcome.status, outcome.report, rendered[0] if rendered else None, outcome.error, os.getpid(), built
    )
