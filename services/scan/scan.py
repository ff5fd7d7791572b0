"""Scans one video file start to end through the engine, keeping every verdict and face box."""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from realtime.engine import Engine
from realtime.frames import AnalyzedFrame, Verdict
from realtime.pipeline import StreamStats
from realtime.sources.av_source import AvSource

Bounds = tuple[float, float, float, float]  # left, top, right, bottom in full-frame pixels
FaceBox = tuple[int, float, float, float, float]  # track_id, then its bounds


@dataclass(frozen=True)
class FrameFaces:
    """The tracked faces of one analysed frame."""

    index: int
    pts_s: float
    faces: tuple[FaceBox, ...]


@dataclass
class ScanResult:
    """Everything one scan found; pure data, safe to keep after the engine threads are gone."""

    verdicts: list[Verdict]
    frames: list[FrameFaces]  # every analysed frame, in order, with or without faces
    stats: StreamStats
    threshold: float
    elapsed_s: float
    interrupted: bool = False
    error: str | None = None
    first_pts_s: float | None = None  # container time of frame 0 (frame pts_s count from it), if known
    frame_indices: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.frame_indices = [f.index for f in self.frames]

    def faces_at(self, frame_index: int) -> FrameFaces | None:
        """Faces of the newest analysed frame at or before ``frame_index`` (sampled scans skip frames)."""
        position = bisect_right(self.frame_indices, frame_index) - 1
        return self.frames[position] if position >= 0 else None


class FileScan:
    """One file through the engine; ``stop()`` (from a signal handler) ends it early, keeping what was scored."""

    def __init__(
        self,
        path: Path,
        engine: Engine,
        on_progress: Callable[[int], None] | None = None,
        on_verdict: Callable[[Verdict], None] | None = None,
    ) -> None:
        """``on_progress(frame_index)`` runs on the face thread, ``on_verdict`` on the inference thread."""
        self.source = AvSource(str(path), live=False, sample_every=engine.config.sample_every)
        self._verdicts: list[Verdict] = []
        self._frames: list[FrameFaces] = []
        self._on_progress = on_progress
        self._on_verdict = on_verdict
        self._lock = threading.Lock()
        self.interrupted = False
        self.pipeline = engine.pipeline([self.source], self._add_verdict, self._add_frame)

    def _add_verdict(self, verdict: Verdict) -> None:
        with self._lock:
            self._verdicts.append(verdict)
        if self._on_verdict is not None:
            self._on_verdict(verdict)

    def _add_frame(self, analyzed: AnalyzedFrame) -> None:
        faces = tuple(
            (face.track_id, face.box.left, face.box.top, face.box.right, face.box.bottom) for face in analyzed.faces
        )
        self._frames.append(FrameFaces(analyzed.frame.index, analyzed.frame.pts_s, faces))
        if self._on_progress is not None:
            self._on_progress(analyzed.frame.index)

    def stop(self) -> None:
        self.interrupted = True
        self.pipeline.stop()

    def run(self) -> ScanResult:
        """Runs to the end of the file (or ``stop()``) and joins every engine thread."""
        started = time.monotonic()
        try:
            self.pipeline.start()
            self.pipeline.wait()
        finally:
            self.pipeline.stop()
            self.pipeline.join()
        stats = self.pipeline.stats()[0]
        error = self.pipeline.inference.error or stats.error
        with self._lock:
            verdicts = sorted(self._verdicts, key=lambda v: (v.last_frame, v.track_id))
        return ScanResult(
            verdicts=verdicts,
            frames=list(self._frames),
            stats=stats,
            threshold=self.pipeline.settings.threshold,
            elapsed_s=time.monotonic() - started,
            interrupted=self.interrupted,
            error=error,
            first_pts_s=self.source.first_pts_s,
        )
