"""A Ray scan task whose worker process dies in the middle of scanning, as an OOM kill or a lost node would.

Stands in for :func:`services.scan.ray_task.scan_file` (same arguments). Attempts are counted in files beside
the video (``.attempts/<name>``), so a retry on another worker process knows it is one.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from services.scan import ray_task
from services.scan.ray_task import ScanJob, TaskResult
from services.scan.reports import ReportPaths

KILL_AT_FRAME = 10


class KillAtFrame:
    """A progress bar that kills its own process (SIGKILL: nothing is cleaned up) once a frame count is reached."""

    def begin(self, label: str, total_frames: int | None) -> None:
        pass

    def update(self, frames_done: int) -> None:
        if frames_done >= KILL_AT_FRAME:
            os.kill(os.getpid(), signal.SIGKILL)

    def end(self) -> None:
        pass


def attempts(video: Path) -> int:
    marker = video.parent / ".attempts" / video.name
    return int(marker.read_text()) if marker.exists() else 0


def scan_file_dying(job: ScanJob, video: str, paths: ReportPaths) -> TaskResult:
    """``victim*`` files: the first attempt dies mid-scan; ``doomed*`` files: every attempt does."""
    path = Path(video)
    attempt = attempts(path) + 1
    (path.parent / ".attempts").mkdir(exist_ok=True)
    (path.parent / ".attempts" / path.name).write_text(str(attempt))
    dies = path.name.startswith("doomed") or (path.name.startswith("victim") and attempt == 1)
    scanner, _ = ray_task._scanner_for(job)
    progress = scanner.progress
    if dies:
        scanner.progress = KillAtFrame()
    try:
        return ray_task.scan_file(job, video, paths)
    finally:
        scanner.progress = progress
