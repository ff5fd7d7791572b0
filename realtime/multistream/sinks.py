"""Where the verdicts of all streams go: JSON lines tagged with the stream, summaries, alerts, status."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from models.checkpoint import ModelSpec
from realtime.frame_queue import BoundedQueue, DropPolicy
from realtime.frames import Verdict
from realtime.inference import label_for
from realtime.multistream.config import AlertSettings, StreamSettings
from realtime.multistream.status import StatusBoard
from realtime.output import JsonLinesWriter, summary_record, verdict_record
from realtime.pipeline import StreamStats
from realtime.summary import VerdictSummary
from realtime.urls import mask_url

ALERT_COMMAND_TIMEOUT_S = 30.0
ALERT_QUEUE_SIZE = 16  # alert commands waiting to run; the oldest are dropped (and counted) past this


@dataclass
class AlertTracker:
    """Decides when one stream raises an alert: a face at/above the threshold for ``min_windows`` windows."""

    settings: AlertSettings
    threshold: float
    _above: dict[int, int] = field(default_factory=dict)  # track id -> consecutive windows at/above
    _last_alert_at: float | None = None

    def observe(self, verdict: Verdict, now: float) -> int:
        """Returns how many windows in a row this face has been suspicious when an alert is due, else 0."""
        if verdict.p_fake < self.threshold:
            self._above.pop(verdict.track_id, None)
            return 0
        count = self._above[verdict.track_id] = self._above.get(verdict.track_id, 0) + 1
        cooled = self._last_alert_at is None or now - self._last_alert_at >= self.settings.cooldown_s
        if count < self.settings.min_windows or not cooled:
            return 0
        self._last_alert_at = now
        return count


class AlertCommands(threading.Thread):
    """Runs alert commands one after another off the analysis threads, each with its alert on stdin."""

    def __init__(self) -> None:
        super().__init__(name="alert-commands", daemon=True)
        self.queue = BoundedQueue[tuple[str, tuple[str, ...], str]](ALERT_QUEUE_SIZE, DropPolicy.KEEP_NEWEST)
        self.failures = 0

    def run(self) -> None:
        while (job := self.queue.get()) is not None:
            stream, argv, payload = job
            try:
                # The command's own output goes to stderr: stdout carries only JSON lines.
                done = subprocess.run(
                    argv, input=payload, text=True, stdout=sys.stderr, timeout=ALERT_COMMAND_TIMEOUT_S, check=False
                )
                problem = f"exit status {done.returncode}" if done.returncode else None
            except (OSError, subprocess.TimeoutExpired) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem:
                self.failures += 1
                print(f"warning: alert command of stream {stream} failed: {problem}", file=sys.stderr, flush=True)

    def close(self, timeout_s: float) -> None:
        """Runs what is queued (within ``timeout_s``), then ends."""
        self.queue.close()
        self.join(timeout_s)


class StreamSinks:
    """Writes verdict/status/alert lines of every stream and, at the end, one summary per stream.

    Each stream keeps its own threshold (labels are recomputed with it) and its own summary.
    Safe to call from several threads (the Ray backend reads one event stream per inference actor).
    """

    def __init__(
        self,
        streams: list[StreamSettings],
        writer: JsonLinesWriter,
        trained: bool,
        engine_threshold: float,
        board: StatusBoard | None = None,
    ) -> None:
        self.streams = {stream.name: stream for stream in streams}
        self.writer = writer
        self.trained = trained
        self.thresholds = {s.name: s.threshold if s.threshold is not None else engine_threshold for s in streams}
        self.summaries = {stream.name: VerdictSummary() for stream in streams}
        self.alerts = {s.name: AlertTracker(s.alert, self.thresholds[s.name]) for s in streams if s.alert is not None}
        self.alert_counts = dict.fromkeys(self.streams, 0)
        self.board = board
        self.commands: AlertCommands | None = None
        if any(s.alert is not None and s.alert.command for s in streams):
            self.commands = AlertCommands()
            self.commands.start()
        self._lock = threading.Lock()

    def masked_source(self, name: str) -> str:
        return mask_url(self.streams[name].source)

    def verdict(self, verdict: Verdict) -> None:
        name = verdict.source
        record = verdict_record(verdict, self.trained)
        record["label"] = label_for(verdict.p_fake, self.thresholds[name], self.trained)
        with self._lock:
            self.summaries[name].add(verdict)
            self.writer.write(self._tagged(name, record))
            tracker = self.alerts.get(name)
            windows = tracker.observe(verdict, time.monotonic()) if tracker else 0
            if windows:
                self._alert(name, verdict, windows)
        if self.board is not None:
            self.board.verdict(verdict)

    def status(self, name: str, record: dict[str, Any]) -> None:
        """A status event of one stream (reconnecting, reconnected, restarted, ...)."""
        self.writer.write(self._tagged(name, {"type": "status", **record}))
        if self.board is not None:
            self.board.state(name, str(record.get("event", "")))
        if record.get("event") == "reconnecting":
            print(
                f"warning: {name}: {record['reason']}; reconnecting in {record['retry_in_s']} s",
                file=sys.stderr,
                flush=True,
            )

    def _alert(self, name: str, verdict: Verdict, windows: int) -> None:
        record = self._tagged(
            name,
            {
                "type": "alert",
                "track_id": verdict.track_id,
                "p_fake": verdict.p_fake,
                "threshold": self.thresholds[name],
                "windows_above": windows,
                "first_frame": verdict.first_frame,
                "last_frame": verdict.last_frame,
                "start_pts_s": verdict.start_pts_s,
                "end_pts_s": verdict.end_pts_s,
            },
        )
        self.alert_counts[name] += 1
        self.writer.write(record)
        if self.board is not None:
            self.board.alert(name)
        command = self.streams[name].alert.command  # type: ignore[union-attr]  # trackers exist only with alerts
        if command and self.commands is not None:
            self.commands.queue.put((name, command, json.dumps(record)))

    def write_summaries(
        self,
        stats: dict[str, StreamStats],
        spec: ModelSpec,
        model_source: str,
        device: str,
        runtime: str,
        elapsed_s: float,
        interrupted: bool,
        restarts: dict[str, int] | None = None,
    ) -> None:
        """One summary line per stream, in the order of streams.yaml (``restarts``: of Ray stream actors)."""
        for name in self.streams:
            record = summary_record(
                stats[name],
                self.summaries[name],
                spec,
                model_source,
                self.thresholds[name],
                device,
                runtime,
                elapsed_s,
                interrupted,
                still_images=False,
            )
            if name in self.alerts:
                record["alerts"] = self.alert_counts[name]
            if restarts and restarts.get(name):
                record["restarts"] = restarts[name]
            self.writer.write(self._tagged(name, record))

    def close(self) -> None:
        if self.commands is not None:
            self.commands.close(ALERT_COMMAND_TIMEOUT_S)

    def _tagged(self, name: str, record: dict[str, Any]) -> dict[str, Any]:
        """``stream`` first, ``source`` the stream's (masked) source, the rest as the single-stream output."""
        return {"type": record.pop("type"), "stream": name, **record, "source": self.masked_source(name)}
