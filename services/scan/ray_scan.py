"""The driver of ``--scan --backend ray``: a folder scan with one Ray task per video file.

It decides what to scan exactly as a local scan does (a file whose complete report matches its
sha256, the model and the settings is reused, not submitted), keeps at most two tasks per slot of
the cluster submitted (one running, one ready to start), and writes each file's reports as its
task returns them, to the same paths as a local scan. ``stop()`` (Ctrl-C, SIGTERM) cancels the
tasks still on the way; reports already written stay, so running the same command again resumes.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError, RayTaskError, TaskCancelledError

from common.errors import first_line
from realtime.sources.base import SourceError
from services.scan.media import probe
from services.scan.ray_task import ScanJob, TaskResult, scan_file
from services.scan.reports import ReportPaths, write_rendered
from services.scan.runner import FileOutcome, reused_outcome

TASKS_PER_SLOT = 2  # submitted tasks per file the cluster can scan at once: the next one starts without a round trip
TASK_RETRIES = 1  # a task whose worker process died (OOM kill, lost node) runs once more
WAKE_S = 0.5  # the driver's wait wakes this often so Ctrl-C (a Python signal handler) gets to run
CANCEL_GRACE_S = 10.0  # after stop(): how long tasks get to end before their files count as interrupted
GPU_SHARE_PER_FILE = 0.25  # on GPU nodes four files share a GPU (decoding and faces stay on the CPU)


@dataclass(frozen=True)
class TaskResources:
    """What one task reserves in Ray's accounting."""

    cpus: float
    gpus: float = 0.0


def previous_outcome(video: Path, paths: ReportPaths, model_key: str, settings: dict[str, Any]) -> FileOutcome | None:
    """What a local scan concludes about ``video`` before scanning it, or None when it must be scanned.

    As :meth:`Scanner.scan`: a file that cannot be read fails, one whose complete report set matches
    its sha256, the model and the settings is reused. Files without a report set are not read here
    (hashing them would cost the driver a read of every new file): their task reads them.
    """
    if not paths.all_exist():
        return None
    try:
        media = probe(video)
    except (SourceError, OSError) as exc:
        return FileOutcome(video, paths, "failed", error=str(exc))
    return reused_outcome(video, paths, media, model_key, settings)


def task_resources(config_device: str, threads: int) -> TaskResources:
    """Reservations of one file: ``threads`` CPUs, and a share of a GPU where the cluster has GPUs and may use them."""
    has_gpus = ray.cluster_resources().get("GPU", 0) > 0
    if config_device == "cuda" and not has_gpus:
        raise ValueError("--device cuda, but the Ray cluster has no GPU")
    return TaskResources(float(threads), GPU_SHARE_PER_FILE if has_gpus and config_device != "cpu" else 0.0)


def slots(resources: TaskResources) -> int:
    """How many files the cluster can scan at once."""
    cluster = ray.cluster_resources()
    count = int(cluster.get("CPU", 1) // resources.cpus) if resources.cpus else 1
    if resources.gpus:
        count = min(count, int(cluster.get("GPU", 0) // resources.gpus))
    return max(1, count)


class RayFolderScan:
    """Scans a list of videos on the connected Ray cluster; ``on_outcome`` hears of each file as it is done."""

    def __init__(
        self,
        job: ScanJob,
        settings: dict[str, Any],
        resources: TaskResources,
        rescan: bool,
        on_outcome: Callable[[FileOutcome], None],
    ) -> None:
        self.job = job
        self.settings = settings
        self.rescan = rescan
        self.on_outcome = on_outcome
        self.max_submitted = TASKS_PER_SLOT * slots(resources)
        self.task = ray.remote(scan_file).options(
            num_cpus=resources.cpus, num_gpus=resources.gpus, max_retries=TASK_RETRIES
        )
        self.stop_event = threading.Event()
        self.task_results: list[TaskResult] = []  # of the tasks that returned, in the order they did

    @property
    def stopped(self) -> bool:
        return self.stop_event.is_set()

    def stop(self) -> None:
        """Safe from a signal handler: the run cancels its tasks at its next wake-up."""
        self.stop_event.set()

    def run(self, files: list[tuple[Path, ReportPaths]]) -> tuple[list[FileOutcome], list[Path]]:
        """Outcomes of the files that were reached (in the order of ``files``) and the videos that were not."""
        outcomes: dict[int, FileOutcome] = {}
        waiting: deque[int] = deque()
        for number, (video, paths) in enumerate(files):
            previous = None if self.rescan else previous_outcome(video, paths, self.job.identity.key, self.settings)
            if previous is None:
                waiting.append(number)
            else:
                self._record(outcomes, number, previous)
        running: dict[Any, int] = {}  # task -> its file's number
        while (waiting or running) and not self.stopped:
            while waiting and len(running) < self.max_submitted:
                number = waiting.popleft()
                video, paths = files[number]
                running[self.task.remote(self.job, str(video), paths)] = number
            ready, _ = ray.wait(list(running), num_returns=1, timeout=WAKE_S)
            for ref in ready:
                number = running.pop(ref)
                self._record(outcomes, number, self._finish(ref, *files[number]))
        if running:  # stopped: cancel what is on the way; tasks that still finish in time keep their reports
            for ref in running:
                ray.cancel(ref)
            ready, _ = ray.wait(list(running), num_returns=len(running), timeout=CANCEL_GRACE_S)
            for ref in running:
                video, paths = files[running[ref]]
                outcome = self._finish(ref, video, paths) if ref in ready else _interrupted(video, paths)
                self._record(outcomes, running[ref], outcome)
        return [outcomes[number] for number in sorted(outcomes)], [files[number][0] for number in waiting]

    def _record(self, outcomes: dict[int, FileOutcome], number: int, outcome: FileOutcome) -> None:
        outcomes[number] = outcome
        self.on_outcome(outcome)

    def _finish(self, ref: Any, video: Path, paths: ReportPaths) -> FileOutcome:
        """The outcome of a task that ended, its reports written."""
        try:
            result: TaskResult = ray.get(ref)
        except TaskCancelledError:
            return _interrupted(video, paths)
        except RayTaskError as exc:  # the task raised: this file fails, the others go on
            return FileOutcome(video, paths, "failed", error=f"scan task failed: {first_line(exc.cause or exc)}")
        except RayError as exc:  # its worker died (retries used up), or the object was lost
            return FileOutcome(video, paths, "failed", error=f"scan task failed: {first_line(exc)}")
        self.task_results.append(result)
        if result.rendered is not None:
            try:
                write_rendered(result.rendered, paths)
            except OSError as exc:
                return FileOutcome(video, paths, "failed", error=f"cannot write reports: {exc}")
        return FileOutcome(video, paths, result.status, result.report, error=result.error)


def _interrupted(video: Path, paths: ReportPaths) -> FileOutcome:
    return FileOutcome(video, paths, "interrupted", error="stopped before this file was scanned")
