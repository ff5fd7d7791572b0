"""A live status table of many streams on a terminal: fps, latency, faces, max p_fake, alerts."""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from realtime.frames import Verdict
from realtime.verdicts import Judgement

REFRESH_S = 1.0  # redraw period of the table
HEADLINE_CHARS = 48  # the verdict column of the table keeps a terminal line under ~130 characters
RECENT_S = 2.0  # a track's verdict older than this no longer counts as "current"


@dataclass
class StreamRow:
    """What the table shows about one stream."""

    name: str
    state: str = "starting"
    frames_analyzed: int = 0
    faces: int = 0
    alerts: int = 0
    fps: float = 0.0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=16))
    latest_by_track: dict[int, tuple[float, float]] = field(default_factory=dict)  # track -> (arrival, p_fake)
    _counted: tuple[float, int] = (0.0, 0)  # (time, frames_analyzed) at the previous fps update

    def current_max_p_fake(self, now: float) -> float | None:
        recent = [p for arrived, p in self.latest_by_track.values() if now - arrived <= RECENT_S]
        return max(recent) if recent else None


@dataclass(frozen=True)
class StreamFigures:
    """One stream's live figures, as the status table (terminal) and the stream grid (Qt) show them."""

    state: str
    fps: float  # frames analysed per second since the previous snapshot
    latency_ms: float | None  # median of the recent verdicts' latencies; None before the first
    faces: int  # faces in the newest analysed frame
    max_p_fake: float | None  # highest p_fake among the faces scored in the last couple of seconds
    alerts: int
    judgement: Judgement | None = None  # the stream's verdict so far (kept once it ended); None: no judge set
    video_p_fake: float | None = None  # the stream's video score so far (the summary's); None before a face


class StatusBoard:
    """Collects per-stream figures from any thread; ``snapshot`` gives them, ``render`` as a text table.

    ``set_judge`` (the stream sinks call it) gives the function that says each stream's verdict so far.
    ``clock``: seconds of a monotonic clock (fps and the age of scores are measured on it).
    """

    def __init__(self, names: list[str], clock: Callable[[], float] = time.monotonic) -> None:
        self._rows = {name: StreamRow(name) for name in names}
        self._lock = threading.Lock()
        self._clock = clock
        self._judge: Callable[[str], Judgement] | None = None
        self._score: Callable[[str], float | None] | None = None

    def set_judge(self, judge: Callable[[str], Judgement], score: Callable[[str], float | None]) -> None:
        """``judge(name)``: the stream's verdict so far; ``score(name)``: its video score so far."""
        self._judge, self._score = judge, score

    def frame_analyzed(self, name: str, faces: int) -> None:
        """One more frame of ``name`` went through its face stage (threads backend)."""
        with self._lock:
            row = self._rows[name]
            row.frames_analyzed += 1
            row.faces = faces
            row.state = "running" if row.state == "starting" else row.state

    def progress(self, name: str, frames_analyzed: int, faces: int) -> None:
        """Absolute progress of ``name`` (Ray backend: reported by the stream actor)."""
        with self._lock:
            row = self._rows[name]
            row.frames_analyzed = max(row.frames_analyzed, frames_analyzed)
            row.faces = faces
            row.state = "running" if row.state == "starting" else row.state

    def verdict(self, verdict: Verdict) -> None:
        with self._lock:
            row = self._rows[verdict.source]
            row.latencies_ms.append(verdict.latency_ms)
            row.latest_by_track[verdict.track_id] = (self._clock(), verdict.p_fake)

    def alert(self, name: str) -> None:
        with self._lock:
            self._rows[name].alerts += 1

    def state(self, name: str, state: str) -> None:
        """``running``, ``reconnecting``, ``restarted``, ``ended``, ``failed``, ..."""
        with self._lock:
            self._rows[name].state = state

    def snapshot(self, measure_fps: bool = True) -> dict[str, StreamFigures]:
        """Every stream's figures now; the fps covers the time since the previous measuring snapshot.

        ``measure_fps=False``: the other figures now, with the fps of the previous measure (a refresh out of
        turn, e.g. on an alert, must not turn a few milliseconds into a rate).
        """
        # Judged before taking the board's lock: the judge takes the sinks' lock, which is held while they
        # call into the board.
        judge, score = self._judge, self._score
        judgements = {name: judge(name) for name in self._rows} if judge is not None else {}
        scores = {name: score(name) for name in self._rows} if score is not None else {}
        now = self._clock()
        figures = {}
        with self._lock:
            for name, row in self._rows.items():
                if measure_fps:
                    since, frames = row._counted
                    if since and now > since:
                        row.fps = (row.frames_analyzed - frames) / (now - since)
                    row._counted = (now, row.frames_analyzed)
                latency = statistics.median(row.latencies_ms) if row.latencies_ms else None
                figures[name] = StreamFigures(
                    row.state,
                    row.fps,
                    latency,
                    row.faces,
                    row.current_max_p_fake(now),
                    row.alerts,
                    judgements.get(name),
                    scores.get(name),
                )
        return figures

    def track_scores(self, name: str) -> dict[int, float]:
        """The newest p_fake of every face of ``name`` that has been scored."""
        with self._lock:
            return {track_id: p_fake for track_id, (_, p_fake) in self._rows[name].latest_by_track.items()}

    def render(self) -> str:
        """The table now (a :meth:`snapshot`: it updates every stream's fps)."""
        header = f"{'stream':<20} {'state':<12} {'fps':>6} {'latency_ms':>10} {'faces':>5} {'max_p_fake':>10} alerts"
        lines = [header + "  verdict so far"]
        for name, row in self.snapshot().items():
            latency = "-" if row.latency_ms is None else f"{row.latency_ms:.0f}"
            p_fake = "-" if row.max_p_fake is None else f"{row.max_p_fake:.3f}"
            verdict = "-" if row.judgement is None else row.judgement.headline[:HEADLINE_CHARS]
            lines.append(
                f"{name[:20]:<20} {row.state[:12]:<12} {row.fps:>6.1f} {latency:>10} {row.faces:>5} "
                f"{p_fake:>10} {row.alerts:>6}  {verdict}"
            )
        return "\n".join(lines)


class StatusView(threading.Thread):
    """Redraws the board in place on a terminal every second until ``close``."""

    def __init__(self, board: StatusBoard, stream: TextIO = sys.stderr) -> None:
        super().__init__(name="status-view", daemon=True)
        self.board = board
        self.stream = stream
        self._stop_event = threading.Event()
        self._lines_drawn = 0

    def run(self) -> None:
        while not self._stop_event.wait(REFRESH_S):
            self._draw()
        self._draw()

    def _draw(self) -> None:
        table = self.board.render()
        # Move up over the previous table and clear to the end of the screen, then draw anew.
        rewind = f"\x1b[{self._lines_drawn}F\x1b[J" if self._lines_drawn else ""
        self.stream.write(rewind + table + "\n")
        self.stream.flush()
        self._lines_drawn = table.count("\n") + 1

    def close(self) -> None:
        self._stop_event.set()
        self.join(REFRESH_S * 2)


def start_status_view(board: StatusBoard, stream: TextIO = sys.stderr) -> StatusView | None:
    """A running view when ``stream`` is a terminal; None otherwise (logs and pipes stay clean)."""
    if not stream.isatty():
        return None
    view = StatusView(board, stream)
    view.start()
    return view
