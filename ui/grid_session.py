"""The engine behind the stream grid: the threads backend of ``--streams`` with a frame tap for the GUI.

Built from the same pieces as ``realtime.multistream.cli.run_streams`` (streams.yaml loading,
:class:`ThreadStreams`, :class:`StreamSinks` with its alert rules and commands, the status board),
so verdicts, JSON lines, alerts and summaries are those of a headless ``--streams`` run.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import TextIO

from models.registry import LoadedModel
from realtime.config import EngineConfig
from realtime.inference import CropScorer
from realtime.multistream.cli import local_scorer, prepare_streams, streams_exit_code
from realtime.multistream.config import StreamSettings
from realtime.multistream.local import ThreadStreams
from realtime.multistream.sinks import StreamSinks
from realtime.pipeline import JOIN_TIMEOUT_S
from ui.grid_feed import AlertTap, GridFeed


class GridSession:
    """Every stream of streams.yaml on this machine, one shared inference thread, results for the grid.

    ``out`` receives the JSON lines (default: stdout at construction time).
    """

    def __init__(
        self,
        streams: list[StreamSettings],
        loaded: LoadedModel,
        scorer: CropScorer,
        config: EngineConfig,
        out: TextIO | None = None,
    ) -> None:
        self.streams = streams
        self.loaded = loaded
        engine_threshold = config.threshold if config.threshold is not None else loaded.spec.threshold
        self.feed = GridFeed([stream.name for stream in streams])
        writer = AlertTap(self.feed.signals.alert_raised.emit, out)
        self.sinks = StreamSinks(streams, writer, loaded.spec.trained, engine_threshold, self.feed)
        self.runner = ThreadStreams(streams, loaded, scorer, config, self.sinks, self.feed.put_frame)
        self._watcher = threading.Thread(target=self._watch, name="grid-watcher", daemon=True)
        self._started_at: float | None = None
        self._elapsed_s = 0.0
        self._closed: bool | None = None  # None: not closed yet; else whether every thread ended in time
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
        self.runner.close()  # stops capture; crops already queued are still scored
        self._watcher.join(JOIN_TIMEOUT_S)
        self._elapsed_s = time.monotonic() - self._started_at
        self.running = False
        self._closed = not self._watcher.is_alive() and not any(t.is_alive() for t in self.runner.pipeline.threads())
        return self._closed

    def finish(self, interrupted: bool, signalled: bool, fail_on_interrupt: bool) -> int:
        """After ``close``: one summary per stream on the JSON lines, errors on stderr; returns the exit code.

        ``interrupted``: streams were cut short (marked in their summaries); ``signalled``: by
        Ctrl-C/SIGTERM, which exits 130 with ``fail_on_interrupt`` as headless runs do.
        """
        stats = self.runner.stats()
        for name, stream_stats in stats.items():
            self.feed.state(name, "failed" if stream_stats.error else "ended")
        self.sinks.close()
        spec = self.loaded.spec
        self.sinks.write_summaries(
            stats, spec, self.loaded.source, self.runner.device, self.runner.runtime, self._elapsed_s, interrupted
        )
        return streams_exit_code(self.streams, stats, self.runner.error, signalled, fail_on_interrupt)


def open_grid_session(args: argparse.Namespace, config: EngineConfig) -> GridSession | int:
    """Validates ``args.streams``, loads the model and builds the session (not started); an exit code on error.

    Usage mistakes answer before anything heavy loads, with the messages of a headless run.
    """
    prepared = prepare_streams(args, config)
    if isinstance(prepared, int):
        return prepared
    scorer = local_scorer(prepared, config)
    if isinstance(scorer, int):
        return scorer
    return GridSession(prepared.streams, prepared.loaded, scorer, config)
