"""Opens the source of one configured stream under the stream's name."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from realtime.config import EngineConfig
from realtime.frames import Frame
from realtime.sources.base import FrameSource, SourceHealth
from realtime.sources.factory import open_configured_source
from realtime.status import StatusCallback
from services.multistream.config import StreamSettings


class NamedSource:
    """A source that outputs call by its stream name (two streams may read the same file); the rest is the
    wrapped source's."""

    def __init__(self, name: str, inner: FrameSource) -> None:
        self.name = name
        self.inner = inner
        self.is_live = inner.is_live
        self.still_images = inner.still_images

    def open(self) -> None:
        self.inner.open()

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        return self.inner.frames(stop)

    def close(self) -> None:
        self.inner.close()

    def health(self) -> SourceHealth:
        return self.inner.health()


def open_stream_source(stream: StreamSettings, config: EngineConfig, on_status: StatusCallback) -> NamedSource:
    """The stream's source (not opened yet); raises SourceError for a source that cannot exist."""
    return NamedSource(stream.name, open_configured_source(config, stream.source, on_status))
