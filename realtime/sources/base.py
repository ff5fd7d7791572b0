"""The small protocol every source kind implements."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from realtime.frames import Frame


class SourceError(Exception):
    """A source cannot be opened or read; the message is one line and free of credentials."""


@dataclass(frozen=True)
class SourceHealth:
    """What went wrong while a source was read, as its summary reports it."""

    decode_errors: int = 0  # damaged packets skipped (files)
    decode_gaps: tuple[tuple[float | None, float | None], ...] = ()  # [start_s, end_s] spans lost to them
    # [start_s, end_s] spans the source's own timestamps skip (frames it never delivered: a cut HLS segment)
    timestamp_gaps: tuple[tuple[float, float], ...] = ()
    outages: tuple[dict[str, Any], ...] = ()  # {start_s, end_s, reason} of network streams
    reconnects: int = 0
    skipped_images: tuple[str, ...] = ()  # files of an image folder that could not be decoded


HEALTHY = SourceHealth()


class FrameSource(Protocol):
    """Opens, yields decoded RGB frames until exhausted or stopped, closes."""

    name: str  # what outputs call this source (credentials masked)
    is_live: bool  # live sources drop old frames when analysis falls behind; files never do
    still_images: bool  # each frame is an unrelated picture: no temporal window

    def open(self) -> None: ...

    def frames(self, stop: threading.Event) -> Iterator[Frame]: ...

    def close(self) -> None: ...

    def health(self) -> SourceHealth:
        """Read problems so far (callable during and after a run)."""
        ...
