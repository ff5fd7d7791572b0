"""What the stream grid takes from the engine threads: newest frames, per-stream figures, alerts.

Engine threads never wait on the GUI: frames go into a one-slot-per-stream mailbox (a newer
frame replaces one the GUI has not taken), at most one ``frames_ready`` signal is pending for
all streams together, and alerts hop onto the GUI thread as queued signals.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from PyQt5.QtCore import QObject, pyqtSignal

from realtime.frames import AnalyzedFrame
from realtime.output import JsonLinesWriter
from services.multistream.status import StatusBoard


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


class AlertTap(JsonLinesWriter):
    """Writes the JSON lines as usual and hands every ``alert`` record to ``on_alert`` too."""

    def __init__(self, on_alert: Callable[[dict[str, Any]], None], stream: TextIO | None = None) -> None:
        super().__init__(stream if stream is not None else sys.stdout)
        self.on_alert = on_alert

    def write(self, record: dict[str, Any]) -> None:
        super().write(record)
        if record.get("type") == "alert":
            self.on_alert(dict(record))
