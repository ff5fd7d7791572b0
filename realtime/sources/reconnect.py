"""Live network streams that come back: reconnect with capped exponential backoff."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from realtime.frames import Frame
from realtime.sources.av_source import AvSource
from realtime.sources.base import SourceError, SourceHealth
from realtime.status import StatusCallback, reconnected, reconnecting


@dataclass(frozen=True)
class ReconnectPolicy:
    """How hard to try before giving up on a stream."""

    max_attempts: int = 5  # consecutive failed attempts before giving up (0: never reconnect)
    initial_delay_s: float = 0.5  # wait before the first retry; doubles each failed attempt
    max_delay_s: float = 8.0  # cap of the wait between attempts

    def delay_s(self, attempt: int) -> float:
        """Wait before retry number ``attempt`` (1-based)."""
        return min(self.max_delay_s, self.initial_delay_s * (2 ** (attempt - 1)))


@dataclass
class Outage:
    """A span of stream time with no frames, and why."""

    start_s: float
    end_s: float | None
    reason: str


@dataclass
class OutageLog:
    """What went wrong with a stream during a run (read by the summary)."""

    outages: list[Outage] = field(default_factory=list)
    reconnects: int = 0


class ReconnectingSource:
    """Wraps a network stream; when it breaks (error, stall past the read timeout, or the
    server going away), reopens it after a backoff, reports each step through ``on_status``,
    and gives up with a :class:`SourceError` after ``policy.max_attempts`` failures in a row.

    Frame indices and timestamps continue across reconnects on one clock that never runs
    backwards: it follows the wall clock through an outage, and where a stream was read faster
    than real time (a file served over HTTP) it runs ahead of the wall clock by as much as the
    frames already emitted did. Outages are reported on the same clock, so an outage starts after
    the last frame before it and ends where the next connection's first frame is. ``clip_id``
    changes, so no face track or window spans an outage.
    RTSP-like protocols also reconnect on end of stream, since a camera has no end; HTTP(S)
    and HLS end normally at end of stream (recorded videos served over the web).
    """

    still_images = False
    is_live = True

    def __init__(
        self,
        make_stream: Callable[[], AvSource],
        name: str,
        policy: ReconnectPolicy,
        reconnect_on_end: bool,
        on_status: StatusCallback | None = None,
    ) -> None:
        self._make_stream = make_stream
        self.name = name
        self.policy = policy
        self.reconnect_on_end = reconnect_on_end
        self.on_status = on_status or (lambda status: None)
        self.log = OutageLog()
        self._current: AvSource | None = None
        self._timestamp_gaps: list[tuple[float, float]] = []  # of every connection, on the stream's clock

    def open(self) -> None:
        """The first connection: failures here are reported at once, not retried."""
        self._current = self._make_stream()
        self._current.open()

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        next_index, clip_id = 0, 0
        started = time.monotonic()
        lead_s = 0.0  # how far the stream's clock runs ahead of the wall clock
        next_free_s = 0.0  # the earliest timestamp the next connection's first frame may carry
        failures = 0

        def clock_s() -> float:
            return time.monotonic() - started + lead_s

        while not stop.is_set():
            reason = "end of stream"
            offset_s = 0.0
            try:
                if self._current is None:
                    self._current = self._make_stream()
                    self._current.open()
                    offset_s = round(clock_s(), 3)  # as the outage's end is reported: its first frame is there
                    self._reconnected(offset_s)
                interval_s = 1.0 / (self._current.fps or 25.0)
                for frame in self._current.frames(stop):
                    failures = 0
                    pts_s = offset_s + frame.pts_s
                    next_free_s = pts_s + interval_s
                    yield replace(frame, index=next_index, pts_s=pts_s, clip_id=clip_id)
                    next_index += 1
                if stop.is_set() or not self.reconnect_on_end or self.policy.max_attempts == 0:
                    return
            except SourceError as exc:
                reason = str(exc)
            finally:
                if self._current is not None:
                    # What this connection skipped, on the stream's clock (its frames were shifted by offset_s).
                    self._timestamp_gaps += [
                        (round(offset_s + start, 3), round(offset_s + end, 3))
                        for start, end in self._current.health().timestamp_gaps
                    ]
                    self._current.close()
                    self._current = None
            # A stream read faster than real time has emitted frames past the wall clock: the clock moves
            # ahead with them, so the outage and the next connection come after what was already emitted.
            lead_s = max(lead_s, next_free_s - (time.monotonic() - started))
            failures += 1
            if failures > self.policy.max_attempts:
                raise SourceError(f"gave up on {self.name} after {failures - 1} reconnect attempts: {reason}")
            now_s = clock_s()
            if not self.log.outages or self.log.outages[-1].end_s is not None:
                self.log.outages.append(Outage(round(now_s, 3), None, reason))
            delay_s = self.policy.delay_s(failures)
            self.on_status(reconnecting(failures, delay_s, reason, round(now_s, 3)))
            clip_id += 1
            if stop.wait(delay_s):
                return

    def _reconnected(self, now_s: float) -> None:
        self.log.reconnects += 1
        outage = self.log.outages[-1]
        outage.end_s = round(now_s, 3)
        self.on_status(reconnected(round(outage.end_s - outage.start_s, 3), round(now_s, 3)))

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None

    def health(self) -> SourceHealth:
        outages = tuple(dataclasses.asdict(outage) for outage in self.log.outages)
        return SourceHealth(outages=outages, reconnects=self.log.reconnects, timestamp_gaps=tuple(self._timestamp_gaps))
