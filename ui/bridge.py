"""Carries engine callbacks (frames, verdicts, the end of a run) onto the GUI thread as queued Qt signals."""

from __future__ import annotations

import threading

from PyQt5.QtCore import QObject, pyqtSignal

from realtime.frames import AnalyzedFrame, Verdict
from ui.results import ResultStore


class EngineBridge(QObject):
    """Lives on the GUI thread; its ``on_*`` methods run on engine threads and never wait on the GUI.

    Every frame and verdict goes into the thread-safe :class:`ResultStore` first. Live frames are
    handed over through a one-slot mailbox: a newer frame replaces one the GUI has not taken yet,
    and at most one ``frame_ready`` is pending, so a slow GUI never piles up events.
    """

    frame_ready = pyqtSignal()
    verdict_ready = pyqtSignal(object)  # Verdict
    finished = pyqtSignal()  # the pipeline ended: end of the source, a stop, or an error

    def __init__(self, store: ResultStore, show_live_frames: bool) -> None:
        super().__init__()
        self.store = store
        self.show_live_frames = show_live_frames
        self._lock = threading.Lock()
        self._latest: AnalyzedFrame | None = None

    def on_frame(self, analyzed: AnalyzedFrame) -> None:
        """Face-thread callback."""
        self.store.add_frame(analyzed)
        if not self.show_live_frames:
            return
        with self._lock:
            pending = self._latest is not None
            self._latest = analyzed
        if not pending:
            self.frame_ready.emit()

    def on_verdict(self, verdict: Verdict) -> None:
        """Inference-thread callback."""
        self.store.add_verdict(verdict)
        self.verdict_ready.emit(verdict)

    def take_frame(self) -> AnalyzedFrame | None:
        """GUI side: the newest live frame not shown yet."""
        with self._lock:
            analyzed, self._latest = self._latest, None
            return analyzed
