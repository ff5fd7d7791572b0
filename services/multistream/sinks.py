"""Where the verdicts of all streams go: JSON lines tagged with the stream, summaries, alerts, status."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Collection
from typing import Any

from common.errors import OutputClosed
from common.urls import mask_url
from models.spec import ModelSpec
from realtime.frames import Verdict
from realtime.inference import label_for
from realtime.output import JsonLinesWriter, status_record, summary_record, verdict_record
from realtime.pipeline import StreamStats
from realtime.status import StreamStatus, status_warning
from realtime.summary import VerdictSummary
from realtime.verdicts import Judgement, rounded
from services.alerts import Alert, AlertCommands, AlertPolicy, AlertRule, alert_text
from services.multistream.config import AlertSettings, StreamSettings
from services.multistream.status import StatusBoard


def alert_rule(settings: AlertSettings, threshold: float) -> AlertRule:
    """A stream's alert settings as the shared rule: a face alerts after ``min_windows`` windows at or above
    the threshold, then at most once per cooldown for the stream, again while it stays suspicious."""
    return AlertRule(threshold, settings.min_windows, cooldown_s=settings.cooldown_s, repeat_s=settings.cooldown_s)


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
        self.alerts = {
            s.name: AlertPolicy(alert_rule(s.alert, self.thresholds[s.name])) for s in streams if s.alert is not None
        }
        self.alert_counts = dict.fromkeys(self.streams, 0)
        self.board = board
        self.commands: AlertCommands | None = None
        if any(s.alert is not None and s.alert.command for s in streams):
            self.commands = AlertCommands()
        self._lock = threading.Lock()
        self.reader_gone = threading.Event()  # stdout's reader went away: the run stops quietly
        self.on_reader_gone: Callable[[], None] | None = None  # what stops the run (set by its runner)
        if board is not None:
            board.set_judge(self.judgement, self.video_p_fake)

    def judgement(self, name: str) -> Judgement:
        """The verdict of stream ``name`` so far (the one rule of realtime.verdicts, at the stream's threshold)."""
        with self._lock:
            return self.summaries[name].judgement(self.thresholds[name], self.trained)

    def video_p_fake(self, name: str) -> float | None:
        """The video score of stream ``name`` so far, as its summary will give it; None before a face."""
        with self._lock:
            return self.summaries[name].video_p_fake()

    def masked_source(self, name: str) -> str:
        return mask_url(self.streams[name].source)

    def verdict(self, verdict: Verdict) -> None:
        name = verdict.source
        record = verdict_record(verdict, self.trained)
        record["label"] = label_for(verdict.p_fake, self.thresholds[name], self.trained)
        with self._lock:
            self.summaries[name].add(verdict)
            self._write(self._tagged(name, record))
            policy = self.alerts.get(name)
            alert = policy.observe(verdict) if policy else None
            if alert is not None:
                self._alert(name, verdict, alert)
        if self.board is not None:
            self.board.verdict(verdict)

    def status(self, name: str, status: StreamStatus) -> None:
        """A status event of one stream (reconnecting, reconnected, restarted, ...)."""
        self._write(self._tagged(name, status_record(status)))
        if self.board is not None:
            self.board.state(name, status.event)
        warning = status_warning(name, status)
        if warning:
            print(warning, file=sys.stderr, flush=True)

    def _alert(self, name: str, verdict: Verdict, alert: Alert) -> None:
        """Runs under ``self._lock``, after the verdict went into the stream's summary."""
        judgement = self.summaries[name].judgement(self.thresholds[name], self.trained)
        record = self._tagged(
            name,
            {
                "type": "alert",
                "track_id": verdict.track_id,
                "p_fake": rounded(verdict.p_fake),
                "threshold": rounded(self.thresholds[name]),
                "verdict": judgement.verdict,
                "headline": judgement.headline,
                "text": alert_text(alert),
                "windows_above": alert.windows,
                "first_frame": verdict.first_frame,
                "last_frame": verdict.last_frame,
                "start_pts_s": verdict.start_pts_s,
                "end_pts_s": verdict.end_pts_s,
            },
        )
        # Counted before it is written: whoever hears of the alert (the grid, on its own thread) finds it counted.
        self.alert_counts[name] += 1
        if self.board is not None:
            self.board.alert(name)
        self._write(record)
        command = self.streams[name].alert.command  # type: ignore[union-attr]  # policies exist only with alerts
        if command and self.commands is not None:
            self.commands.submit(command, alert, record)

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
        ended: Collection[str] = (),
    ) -> None:
        """One summary line per stream, in the order of streams.yaml (``restarts``: of Ray stream actors).

        ``interrupted``: the run was cut short; the streams in ``ended`` had already ended on their own
        by then, and their summaries are not marked interrupted.
        """
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
                interrupted and name not in ended,
                still_images=False,
            )
            if name in self.alerts:
                record["alerts"] = self.alert_counts[name]
            if restarts and restarts.get(name):
                record["restarts"] = restarts[name]
            self.writer.write(self._tagged(name, record))

    def _write(self, record: dict[str, Any]) -> None:
        """One line on the output; a reader that went away stops the run, once, instead of failing the thread
        that wrote (a sink, a capture or an event reader thread)."""
        try:
            self.writer.write(record)
        except OutputClosed:
            if not self.reader_gone.is_set():
                self.reader_gone.set()
                if self.on_reader_gone is not None:
                    self.on_reader_gone()

    def close(self) -> None:
        if self.commands is not None:
            self.commands.close()

    def _tagged(self, name: str, record: dict[str, Any]) -> dict[str, Any]:
        """``stream`` first, ``source`` the stream's (masked) source, the rest as the single-stream output."""
        return {"type": record.pop("type"), "stream": name, **record, "source": self.masked_source(name)}
