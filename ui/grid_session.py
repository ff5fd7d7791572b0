"""The engine behind the stream grid: the threads backend of ``--streams`` with a frame tap for the GUI.

Built from the same pieces as a headless ``--streams`` run (:class:`ThreadStreams`, :class:`StreamSinks`
with its alert rules and commands), so verdicts, JSON lines, alerts and summaries are the same.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

from realtime.engine import Engine
from realtime.pipeline import JOIN_TIMEOUT_S, StreamStats
from services.multistream.config import StreamSettings
from services.multistream.local import ThreadStreams
from services.multistream.sinks import StreamSinks
from ui.grid_feed import AlertTap, GridFeed


class GridSession:
    """Every stream of streams.yaml on this machine, one shared inference thread, results for the grid.

    ``out`` receives the JSON lines (default: stdout at construction time).
    """

    def __init__(
        self,
        streams: list[StreamSettings],
        engine: Engine,
        out: TextIO | None = None,
    ) -> None:
        self.streams = streams
        self.engine = engine
        self.feed = GridFeed([stream.name for stream in streams])
        writer = AlertTap(self.feed.signals.alert_raised.emit, out)
        self.sinks = StreamSinks(streams, writer, engine.spec.trained, engine.threshold, self.feed)
        self.runner = ThreadStreams(streams, engine, self.sinks, self.feed.put_frame)
        self.sinks.on_reader_gone = self.runner.stop  # stdout piped into a reader that went away
        self._watcher = threading.Thread(target=self._watch, name="grid-watcher", daemon=True)
        self._started_at: float | None = None
        self._elapsed_s = 0.0
        self._closed: bool | None = None  # None: not closed yet; else whether every thread ended in time
        self.ended_before_close: set[str] = set()
        self.running = False

    def threshold(self, name: str) -> float:
        """The p_fake threshold of stream ``name`` (its own, else the engine's)."""
        return self.sinks.thresholds[name]

    def masked_source(self, name: str) -> str:
        """The stream's source with any credentials hidden."""
        return self.sinks.masked_source(name)

    def start(self) -> None:
        self._started_at = time.monotonic()
        self.running = True
        self.runner.start()
        self._watcher.start()

    def _watch(self) -> None:
        self.runner.wait()
        self.running = False
        self.feed.signals.finished.emit()

    def ended_streams(self) -> dict[str, str | None]:
        """Streams whose capture and face threads have ended: name -> their error (None: ended normally)."""
        if self._started_at is None:
            return {}
        return {
            analyzer.source.name: analyzer.capture.error
            for analyzer in self.runner.pipeline.streams
            if not analyzer.faces.is_alive() and not analyzer.capture.is_alive()
        }

    def close(self) -> bool:
        """Stops every stream and joins every engine thread; True when all ended in time. Idempotent."""
        if self._closed is not None:
            return self._closed
        if self._started_at is None:
            self._closed = True
            return True
        self.ended_before_close = set(self.ended_streams())  # these ended on their own: never "interrupted"
        self.runner.close()  # stops capture; crops already queued are still scored
        self._watcher.join(JOIN_TIMEOUT_S)
        self._elapsed_s = time.monotonic() - self._started_at
        self.running = False
        self._closed = not self._watcher.is_alive() and not any(t.is_alive() for t in self.runner.pipeline.threads())
        return self._closed

    def finish(self, interrupted: bool) -> dict[str, StreamStats]:
        """After ``close``: one summary per stream on the JSON lines; returns every stream's counters.

        ``interrupted``: streams were cut short (marked in their summaries); those that had ended on their
        own before the window closed are not.
        """
        stats = self.runner.stats()
        for name, stream_stats in stats.items():
            self.feed.state(name, "failed" if stream_stats.error else "ended")
        self.sinks.close()
        engine = self.engine
        self.sinks.write_summaries(
            stats,
            engine.spec,
            engine.model_source,
            self.runner.device,
            self.runner.runtime,
            self._elapsed_s,
            interrupted,
            ended=self.ended_before_close,
        )
        return stats
