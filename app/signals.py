"""Ctrl-C and SIGTERM as a request to stop, so a run ends cleanly and keeps what it computed."""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType, TracebackType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignals:
    """Within the ``with`` block, SIGINT/SIGTERM call ``stop()`` instead of raising.

    Raising KeyboardInterrupt inside Thread.join() could let the process exit while engine
    threads still run native code (and crash it); asking them to stop lets every thread end
    and the summary be written. ``interrupted`` tells whether a signal came.
    """

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop
        self.interrupted = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True
        self._stop()

    def __enter__(self) -> StopOnSignals:
        self._previous = {signum: signal.signal(signum, self._handle) for signum in STOP_SIGNALS}
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
