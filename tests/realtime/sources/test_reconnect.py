"""A reconnecting stream's backoff and its clock, with scripted connections in place of a server."""

import itertools
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from realtime.frames import Frame
from realtime.sources.base import SourceError, SourceHealth
from realtime.sources.reconnect import ReconnectingSource, ReconnectPolicy
from realtime.status import StreamStatus


def test_backoff_doubles_from_the_initial_delay_and_is_capped():
    policy = ReconnectPolicy(max_attempts=6, initial_delay_s=0.5, max_delay_s=3.0)
    assert [policy.delay_s(attempt) for attempt in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


class ScriptedConnection:
    """One connection: ``count`` frames at ``fps`` from timestamp 0, as fast as they are asked for (a file
    served over HTTP) or paced by the wall clock (a camera), then the connection breaks."""

    def __init__(self, count: int, fps: float, paced: bool = False) -> None:
        self.count, self.fps, self.paced = count, fps, paced

    def open(self) -> None:
        pass

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        started = time.monotonic()
        for index in range(self.count):
            pts_s = index / self.fps
            if self.paced and stop.wait(max(0.0, pts_s - (time.monotonic() - started))):
                return
            yield Frame(index=index, pts_s=pts_s, captured_at=time.monotonic(), image=np.zeros((2, 2, 3), np.uint8))
        raise SourceError("connection reset by peer")

    def close(self) -> None:
        pass

    def health(self) -> SourceHealth:
        return SourceHealth()


def read_until_given_up(
    *connections: ScriptedConnection, delay_s: float
) -> tuple[list[Frame], ReconnectingSource, list[StreamStatus]]:
    """Every frame the reconnecting source emits over the scripted connections (it gives up after the last),
    the source, and the statuses it reported."""
    remaining = list(connections)

    def connect() -> ScriptedConnection:
        if not remaining:
            raise SourceError("connection refused")
        return remaining.pop(0)

    policy = ReconnectPolicy(max_attempts=1, initial_delay_s=delay_s, max_delay_s=delay_s)
    statuses: list[StreamStatus] = []
    source = ReconnectingSource(connect, "http://127.0.0.1/live.ts", policy, False, statuses.append)  # type: ignore[arg-type]
    source.open()
    frames: list[Frame] = []
    with pytest.raises(SourceError, match="gave up"):
        frames.extend(source.frames(threading.Event()))
    return frames, source, statuses


def split_by_connection(frames: list[Frame]) -> list[list[Frame]]:
    return [[frame for frame in frames if frame.clip_id == clip_id] for clip_id in sorted({f.clip_id for f in frames})]


def test_a_stream_read_faster_than_real_time_keeps_its_clock_running_forwards_across_reconnects():
    # Two seconds of media arrive in milliseconds, then the connection breaks; a 0.1 s backoff later the next
    # connection starts its own timestamps at 0 again. On the wall clock that is 0.1 s after the start, which
    # would put the new frames (and the outage) before frames already emitted.
    frames, source, statuses = read_until_given_up(
        ScriptedConnection(50, fps=25), ScriptedConnection(50, fps=25), ScriptedConnection(10, fps=25), delay_s=0.1
    )
    assert len(frames) == 110 and [frame.index for frame in frames] == list(range(110))
    pts = [frame.pts_s for frame in frames]
    assert all(later > earlier for earlier, later in itertools.pairwise(pts)), "the clock ran backwards"
    connections = split_by_connection(frames)
    outages = source.log.outages
    assert len(connections) == 3 and len(outages) == 3  # two reconnects, then the outage it gave up in
    for (before, after), outage in zip(itertools.pairwise(connections), outages[:2], strict=True):
        # The outage lies between the connections' frames and lasts as long as the backoff did, at least.
        assert before[-1].pts_s + 1 / 25 <= outage.start_s + 0.0005  # outages are rounded to the millisecond
        assert outage.end_s == after[0].pts_s
        assert round(outage.end_s - outage.start_s, 3) >= 0.1  # both are rounded to the millisecond
    assert outages[-1].start_s + 0.0005 >= connections[-1][-1].pts_s + 1 / 25 and outages[-1].end_s is None
    at_s = [status.at_s for status in statuses]
    assert at_s == sorted(at_s) and at_s[0] == outages[0].start_s


def test_a_stream_read_in_real_time_follows_the_wall_clock_through_the_outage():
    started = time.monotonic()
    frames, source, _ = read_until_given_up(
        ScriptedConnection(8, fps=25, paced=True), ScriptedConnection(8, fps=25, paced=True), delay_s=0.3
    )
    elapsed_s = time.monotonic() - started
    first, second = split_by_connection(frames)
    # Paced, the media never runs ahead of the wall clock: the gap between the connections' frames is the
    # outage as the wall clock measured it (backoff included), and the run's timestamps stay within its length.
    assert second[0].pts_s - first[-1].pts_s >= 0.3
    assert source.log.outages[0].end_s == second[0].pts_s
    assert second[-1].pts_s <= elapsed_s
