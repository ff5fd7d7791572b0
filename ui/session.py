"""One analysed source as the window sees it: the engine pipeline, the display reader for files, the results."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from realtime.engine import Engine
from realtime.output import summary_record
from realtime.pipeline import StreamStats
from realtime.sources.av_source import AvSource
from realtime.verdicts import Judgement
from ui.bridge import EngineBridge
from ui.playback import FilePlayback
from ui.results import ResultStore

JOIN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Rates:
    """Per-second rates measured between two status updates."""

    source_fps: float
    analysis_fps: float


class AnalysisSession:
    """Runs the engine on one source and keeps what it found.

    A file that is not paced (``--realtime``) is played by a separate :class:`FilePlayback` while the
    engine analyses it ahead; any other source is shown frame by frame as the engine analyses it.
    Raises the engine's ``SourceError`` for a source that cannot be opened.
    """

    def __init__(self, source_spec: str | None, engine: Engine) -> None:
        self.source_spec = source_spec
        # The engine's own source opening: pacing, read timeout and the reconnect policy of the flags.
        self.source = engine.open_source(source_spec)
        self.device = engine.device
        source = self.source
        self.is_file = isinstance(source, AvSource) and not source.is_live
        self.playback = FilePlayback(source.target) if isinstance(source, AvSource) and self.is_file else None
        self.store = ResultStore()
        self.bridge = EngineBridge(self.store, show_live_frames=not self.is_file)
        self.pipeline = engine.pipeline([self.source], self.bridge.on_verdict, self.bridge.on_frame)
        self.threshold = self.pipeline.settings.threshold
        self.engine = engine
        self._watcher = threading.Thread(target=self._watch, name="session-watcher", daemon=True)
        self._last_counts = (0, 0, time.monotonic())
        self._started_at: float | None = None
        self.running = False

    def judgement(self) -> Judgement:
        """The source's verdict so far (final once the analysis ended), by the rule every output uses."""
        return self.store.judgement(self.threshold, self.engine.spec.trained, self.source.still_images)

    def summary_record(self, interrupted: bool) -> dict[str, Any]:
        """The summary line a headless run of this source prints (``interrupted``: stopped before its end)."""
        engine = self.engine
        elapsed_s = time.monotonic() - self._started_at if self._started_at is not None else 0.0
        return summary_record(
            self.stats(),
            self.store.summary(),
            engine.spec,
            engine.model_source,
            self.threshold,
            engine.device,
            engine.runtime,
            elapsed_s,
            interrupted,
            self.source.still_images,
        )

    @property
    def name(self) -> str:
        return self.source.name

    def start(self) -> None:
        if self.playback is not None:
            self.playback.start()
        self._started_at = time.monotonic()
        self.pipeline.start()
        self._watcher.start()
        self.running = True

    def _watch(self) -> None:
        self.pipeline.wait()
        self.running = False
        self.bridge.finished.emit()

    def stop_analysis(self) -> None:
        """Stops capture; what is queued is still scored and delivered."""
        self.pipeline.stop()

    def close(self) -> bool:
        """Stops and joins every thread of the session; True when all ended in time."""
        self.pipeline.stop()
        joined = self.pipeline.join(JOIN_TIMEOUT_S)
        if self._watcher.is_alive():
            self._watcher.join(JOIN_TIMEOUT_S)
        if self.playback is not None:
            self.playback.close()
        self.running = False
        return joined and not self._watcher.is_alive() and not (self.playback and self.playback.is_alive())

    def stats(self) -> StreamStats:
        return self.pipeline.stats()[0]

    def error(self) -> str | None:
        """The first error of the run (source, inference or display decoding), one line."""
        display_error = self.playback.error if self.playback is not None else None
        return self.stats().error or self.pipeline.inference.error or display_error

    def rates(self) -> Rates:
        """Frames read and analysed per second since the previous call."""
        stats = self.stats()
        read, analysed, then = self._last_counts
        now = time.monotonic()
        elapsed = max(now - then, 1e-6)
        self._last_counts = (stats.frames_read, stats.frames_analyzed, now)
        return Rates((stats.frames_read - read) / elapsed, (stats.frames_analyzed - analysed) / elapsed)
