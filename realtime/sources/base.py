"""The small protocol every source kind implements."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol

from realtime.frames import Frame


class SourceError(Exception):
    """A source cannot be opened or read; the message is one line and free of credentials."""


class FrameSource(Protocol):
    """Opens, yields decoded RGB frames until exhausted or stopped, closes."""

    name: str  # what outputs call this source (credentials masked)
    is_live: bool  # live sources drop old frames when analysis falls behind; files never do
    still_images: bool  # each frame is an unrelated picture: no temporal window

    def open(self) -> None: ...

    def frames(self, stop: threading.Event) -> Iterator[Frame]: ...

    def close(self) -> None: ...
