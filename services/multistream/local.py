"""The threads backend: every stream on this machine, one shared inference worker batching across them."""

from __future__ import annotations

from collections.abc import Callable

from realtime.engine import Engine
from realtime.frames import AnalyzedFrame
from realtime.pipeline import StreamStats
from services.multistream.config import StreamSettings
from services.multistream.sinks import StreamSinks
from services.multistream.sources import open_stream_source


class ThreadStreams:
    """One Pipeline over all streams: a capture and a face thread per stream, one inference thread."""

    def __init__(
        self,
        streams: list[StreamSettings],
        engine: Engine,
        sinks: StreamSinks,
        on_frame: Callable[[AnalyzedFrame], None] | None = None,
    ) -> None:
        """Builds the sources (raises SourceError for one that cannot exist); nothing runs yet.

        ``on_frame`` sees every analysed frame of every stream (on that stream's face thread), e.g.
        to show it.
        """
        self.sinks = sinks
        self.on_frame = on_frame
        sources = [
            open_stream_source(stream, engine.config, lambda record, name=stream.name: sinks.status(name, record))
            for stream in streams
        ]
        rates = [stream.detect_every for stream in streams]
        self.pipeline = engine.pipeline(sources, sinks.verdict, self._on_frame, rates)
        self.device = engine.device
        self.runtime = engine.runtime

    def _on_frame(self, analyzed: AnalyzedFrame) -> None:  # runs on each stream's face thread
        if self.sinks.board is not None:
            self.sinks.board.frame_analyzed(analyzed.source, len(analyzed.faces))
        if self.on_frame is not None:
            self.on_frame(analyzed)

    def start(self) -> None:
        self.pipeline.start()

    def wait(self) -> None:
        """Blocks until every stream ended (or stop() was called) and every verdict was delivered."""
        self.pipeline.wait()

    def stop(self) -> None:
        self.pipeline.stop()

    def close(self) -> None:
        self.pipeline.stop()
        self.pipeline.join()

    def stats(self) -> dict[str, StreamStats]:
        return {stats.name: stats for stats in self.pipeline.stats()}

    @property
    def error(self) -> str | None:
        """Why the run failed as a whole (the inference worker died), else None."""
        return self.pipeline.inference.error
