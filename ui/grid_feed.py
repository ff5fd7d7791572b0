"""What the stream grid takes from the engine threads: newest frames, per-stream figures, alerts.

Engine threads never wait on the GUI: frames go into a one-slot-per-stream mailbox (a newer
frame replaces one the GUI has not taken), at most one ``frames_ready`` signal is pending for
all streams together, and alerts hop onto the GUI thread as queued signals.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from PyQt5.QtCore import QObject, pyqtSignal

from realtime.frames import AnalyzedFrame
from realtime.multistream.status import StatusBoard
from realtime.output import JsonLinesWriter


@dataclass(frozen=True)
class StreamFigures:
    """One stream's live figures, as the terminal status table shows them."""

    state: str
    fps: float  # frames analysed per second since the previous snapshot
    latency_ms: float | None  # median of the recent verdicts' latencies; None before the first
    faces: int  # faces in the newest analysed frame
    max_p_fake: float | None  # highest p_fake among the faces scored in the last couple of seconds
    alerts: int


class GridSignals(QObject):
    """Queued hops onto the GUI thread."""

    frames_ready = pyqtSignal()  # at least one stream has a frame the GUI has not taken yet
    alert_raised = pyqtSignal(object)  # the alert record (dict) exactly as written to the JSON lines
    finished = pyqtSignal()  # every stream ended and every verdict was delivered


class GridFeed(StatusBoard):
    """The streams' status board (fps, latency, faces, max p_fake, alerts) plus their newest frames.

    The sinks update it as they do the terminal table; ``put_frame`` runs on each face thread.
    Must be created on the GUI thread (it owns the Qt signals).
    """

    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self.signals = GridSignals()
        self._frames_lock = threading.Lock()
        self._newest: dict[str, AnalyzedFrame] = {}

    def put_frame(self, analyzed: AnalyzedFrame) -> None:
        """Face-thread callback: keeps only the stream's newest frame; signals when none was waiting."""
        with self._frames_lock:
            pending = bool(self._newest)
            self._newest[analyzed.source] = analyzed
        if not pending:
            self.signals.frames_ready.emit()

    def take_frames(self) -> dict[str, AnalyzedFrame]:
        """GUI side: the newest frame of every stream that has one not shown yet (older ones are gone)."""
        with self._frames_lock:
            newest, self._newest = self._newest, {}
        return newest

    def track_scores(self, name: str) -> dict[int, float]:
        """The newest p_fake of every face of ``name`` that has been scored."""
        with self._lock:
            return {track_id: p_fake for track_id, (_, p_fake) in self._rows[name].latest_by_track.items()}

    def snapshot(self) -> dict[str, StreamFigures]:
        """Every stream's figures now; the fps covers the time since the previous snapshot."""
        self.render()  # advances each row's fps exactly as the terminal table does
        now = time.monotonic()
        with self._lock:
            return {
                name: StreamFigures(
                    row.state,
                    row.fps,
                    statistics.median(row.latencies_ms) if row.latencies_ms else None,
                    row.faces,
                    row.current_max_p_fake(now),
                    row.alerts,
                )
                for name, row in self._rows.items()
            }


class AlertTap(JsonLinesWriter):
    """Writes the JSON lines as usual and hands every ``alert`` record to ``on_alert`` too."""

    def __init__(self, on_alert: Callable[[dict[str, Any]], None], stream: TextIO | None = None) -> None:
        super().__init__(stream if stream is not None else sys.stdout)
        self.on_alert = on_alert

    def write(self, record: dict[str, Any]) -> None:
        super().write(record)
        if record.get("type") == "alert":
            self.on_alert(dict(record))
