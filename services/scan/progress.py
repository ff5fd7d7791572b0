"""A one-line progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

REDRAW_S = 0.2  # at most five redraws a second


def eta_text(frames_left: int, fps: float) -> str:
    """Time left at ``fps``: ``0:42``, ``1:02:05``; ``--:--`` before a rate is known."""
    if fps <= 0:
        return "--:--"
    seconds = round(max(frames_left, 0) / fps)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class ProgressBar:
    """``[#####-----]  48%  2/5 clip.mp4  31.0 fps  ETA 0:42``; silent when ``stream`` is not a terminal."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.width = width
        self._lock = threading.Lock()
        self._label = ""
        self._total = 0
        self._started = 0.0
        self._drawn_at = 0.0

    def begin(self, label: str, total_frames: int | None) -> None:
        """A new task of ``total_frames`` (unknown: 0 shows a frame counter instead of a bar)."""
        with self._lock:
            self._label, self._total = label, total_frames or 0
            self._started, self._drawn_at = time.monotonic(), 0.0

    def update(self, frames_done: int) -> None:
        """Safe from any thread."""
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            if now - self._drawn_at < REDRAW_S:
                return
            self._drawn_at = now
            rate = frames_done / max(now - self._started, 1e-6)
            eta = ""
            if self._total:
                fraction = min(frames_done / self._total, 1.0)
                filled = round(self.width * fraction)
                bar = f"[{'#' * filled}{'-' * (self.width - filled)}] {fraction * 100:3.0f}%"
                eta = f"  ETA {eta_text(self._total - frames_done, rate)}"
            else:
                bar = f"{frames_done} frames"
            self.stream.write(f"\r\x1b[K{bar}  {self._label}  {rate:.1f} fps{eta}")
            self.stream.flush()

    def end(self) -> None:
        """Clears the line so the next message starts clean."""
        if self.enabled:
            with self._lock:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
