"""Opens the source of one configured stream under the stream's name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from realtime.config import EngineConfig
from realtime.frames import Frame
from realtime.multistream.config import StreamSettings
from realtime.sources.base import FrameSource
from realtime.sources.factory import open_source_spec
from realtime.sources.reconnect import ReconnectPolicy, StatusCallback


class NamedSource:
    """A source that outputs call by its stream name (two streams may read the same file).

    Everything else (``log`` of reconnecting streams, ``decode_errors``, ...) is the wrapped source's.
    """

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

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)


def open_stream_source(stream: StreamSettings, config: EngineConfig, on_status: StatusCallback) -> NamedSource:
    """The stream's source (not opened yet); raises SourceError for a source that cannot exist."""
    inner = open_source_spec(
        stream.source,
        realtime=config.realtime,
        read_timeout_s=config.read_timeout_s,
        sample_every=config.sample_every,
        reconnect=ReconnectPolicy(config.reconnect_attempts, max_delay_s=config.reconnect_max_delay_s),
        on_status=on_status,
    )
    return NamedSource(stream.name, inner)
