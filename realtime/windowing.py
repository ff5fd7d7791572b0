"""Sliding windows over one face track's cached features (pure: no threads, no I/O).

Each crop's backbone feature is computed once and kept in a ring of the newest ``window``
entries; a window is due after every ``stride`` new entries once the ring holds ``first`` of them
(``window`` by default; 1 for heads that average crop scores, whose first windows grow from one
crop to ``window``), so a slide costs one backbone pass per new crop plus one cheap head pass.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WindowEntry:
    """One crop's cached feature with the timestamps of its frame."""

    frame_index: int
    pts_s: float
    captured_at: float
    feature: Any  # backbone output for the crop (a tensor row in the engine)
    name: str = ""  # image file name, for image sources


class TrackWindows:
    """Ring buffer and emission schedule of one track."""

    def __init__(self, window: int, stride: int, first: int | None = None) -> None:
        if window < 1 or stride < 1:
            raise ValueError("window and stride must be at least 1")
        first = window if first is None else first
        if not 1 <= first <= window:
            raise ValueError(f"the first window needs 1 to {window} entries, not {first}")
        self.window = window
        self.stride = stride
        self.first = first
        self._ring: deque[WindowEntry] = deque(maxlen=window)
        self._new_since_emit = 0
        self.windows_emitted = 0

    def push(self, entry: WindowEntry) -> list[WindowEntry] | None:
        """Adds the newest entry; returns the window (oldest first) when one is due."""
        self._ring.append(entry)
        self._new_since_emit += 1
        if len(self._ring) < self.first:
            return None
        if self.windows_emitted and self._new_since_emit < self.stride:
            return None
        self._new_since_emit = 0
        self.windows_emitted += 1
        return list(self._ring)

    def flush(self) -> list[WindowEntry] | None:
        """At track end: a shorter window over what was seen, if the track never filled one.

        A face visible for fewer than ``window`` frames still gets one score instead of none.
        """
        if self.windows_emitted or not self._ring:
            return None
        self.windows_emitted += 1
        return list(self._ring)

    def __len__(self) -> int:
        return len(self._ring)
