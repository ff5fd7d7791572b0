"""A thread-safe record of one source's analysis that displays query by stream time.

Engine threads add tracked faces (per analysed frame) and verdicts (per window); a display
asks what was found at the moment it shows, which for files may lie far behind the analysis.
Memory is bounded: the oldest frames and verdicts are forgotten past the configured counts.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np

from realtime.frames import AnalyzedFrame, TrackedFace, Verdict
from realtime.summary import VerdictSummary
from realtime.verdicts import Judgement
from ui.thumbnail import THUMBNAIL_PX, face_thumbnail

# Two timestamps closer than this are the same frame (pts are rounded to 0.1 ms upstream).
SAME_FRAME_S = 1e-3


@dataclass(frozen=True)
class TrackSeries:
    """p_fake of one track over stream time, for plotting."""

    track_id: int
    end_pts_s: np.ndarray  # float64, seconds, ascending
    p_fake: np.ndarray  # float64


def _trim(items: list, limit: int) -> None:
    """Drops the oldest tenth once ``limit`` is passed (amortised O(1) per append)."""
    if len(items) > limit:
        del items[: max(1, limit // 10)]


class ResultStore:
    """Tracked faces per frame, verdicts per track, and face thumbnails of one source."""

    def __init__(
        self,
        max_frames: int = 216_000,  # two hours at 30 fps of per-frame boxes (a few hundred bytes each)
        max_verdicts_per_track: int = 72_000,  # two hours at 10 verdicts per second
        thumbnail_px: int = THUMBNAIL_PX,  # side of the square face thumbnails kept for alerts
        thumbnails_per_track: int = 128,  # recent frames per track; covers the frames a verdict lags behind
        max_thumbnail_tracks: int = 16,
    ) -> None:
        self.max_frames = max_frames
        self.max_verdicts_per_track = max_verdicts_per_track
        self.thumbnail_px = thumbnail_px
        self.thumbnails_per_track = thumbnails_per_track
        self.max_thumbnail_tracks = max_thumbnail_tracks
        self._lock = threading.Lock()
        self._frame_pts: list[float] = []
        self._frame_faces: list[tuple[TrackedFace, ...]] = []
        self._verdict_ends: dict[int, list[float]] = {}
        self._verdicts: dict[int, list[Verdict]] = {}
        self._thumbnails: OrderedDict[int, deque[tuple[int, np.ndarray]]] = OrderedDict()
        self._summary = VerdictSummary()
        self._latencies_ms: deque[float] = deque(maxlen=64)
        self.version = 0  # bumped by every verdict, so displays redraw plots only when something changed

    def add_frame(self, analyzed: AnalyzedFrame) -> None:
        """Records where the faces of one analysed frame are, with a thumbnail of each."""
        image = analyzed.frame.image
        thumbnails = [(face.track_id, face_thumbnail(image, face.box, self.thumbnail_px)) for face in analyzed.faces]
        with self._lock:
            self._frame_pts.append(analyzed.frame.pts_s)
            self._frame_faces.append(analyzed.faces)
            if len(self._frame_pts) > self.max_frames:
                drop = max(1, self.max_frames // 10)
                del self._frame_pts[:drop]
                del self._frame_faces[:drop]
            for track_id, thumbnail in thumbnails:
                ring = self._thumbnails.get(track_id)
                if ring is None:
                    ring = self._thumbnails[track_id] = deque(maxlen=self.thumbnails_per_track)
                    if len(self._thumbnails) > self.max_thumbnail_tracks:
                        self._thumbnails.popitem(last=False)
                self._thumbnails.move_to_end(track_id)
                ring.append((analyzed.frame.index, thumbnail))

    def add_verdict(self, verdict: Verdict) -> None:
        with self._lock:
            ends = self._verdict_ends.setdefault(verdict.track_id, [])
            verdicts = self._verdicts.setdefault(verdict.track_id, [])
            ends.append(verdict.end_pts_s)
            verdicts.append(verdict)
            _trim(ends, self.max_verdicts_per_track)
            _trim(verdicts, self.max_verdicts_per_track)
            self._summary.add(verdict)
            self._latencies_ms.append(verdict.latency_ms)
            self.version += 1

    def analysed_until_s(self) -> float | None:
        """pts of the newest analysed frame; None before the first."""
        with self._lock:
            return self._frame_pts[-1] if self._frame_pts else None

    def faces_at(self, pts_s: float) -> tuple[TrackedFace, ...] | None:
        """Faces of the analysed frame shown at ``pts_s``; None when analysis has not reached it."""
        with self._lock:
            position = bisect_right(self._frame_pts, pts_s + SAME_FRAME_S) - 1
            if position < 0 or not self._frame_pts or self._frame_pts[-1] < pts_s - SAME_FRAME_S:
                return None
            return self._frame_faces[position]

    def verdict_at(self, track_id: int, pts_s: float) -> Verdict | None:
        """The newest verdict of a track whose window ended by ``pts_s`` (else the first one, if it covers it)."""
        with self._lock:
            ends = self._verdict_ends.get(track_id)
            if not ends:
                return None
            verdicts = self._verdicts[track_id]
            position = bisect_right(ends, pts_s + SAME_FRAME_S) - 1
            if position >= 0:
                return verdicts[position]
            first = verdicts[0]
            return first if first.start_pts_s <= pts_s + SAME_FRAME_S else None

    def series(self) -> list[TrackSeries]:
        """Every track's p_fake over time, ordered by track id."""
        with self._lock:
            return [
                TrackSeries(
                    track_id,
                    np.asarray(self._verdict_ends[track_id], dtype=np.float64),
                    np.fromiter((v.p_fake for v in verdicts), dtype=np.float64, count=len(verdicts)),
                )
                for track_id, verdicts in sorted(self._verdicts.items())
            ]

    def thumbnail(self, track_id: int, frame_index: int) -> np.ndarray | None:
        """The kept thumbnail of a track nearest to ``frame_index`` (RGB), None if none is kept."""
        with self._lock:
            ring = self._thumbnails.get(track_id)
            if not ring:
                return None
            return min(ring, key=lambda item: abs(item[0] - frame_index))[1]

    def stream_p_fake(self) -> float | None:
        """The video-level score so far, as the headless summary computes it."""
        with self._lock:
            return self._summary.video_p_fake()

    def suspicious_segments(self, threshold: float) -> list[list[float]]:
        """[start_s, end_s] spans where the most suspicious face was at or above ``threshold``."""
        with self._lock:
            return self._summary.suspicious_segments(threshold)

    def judgement(self, threshold: float, trained: bool, still_images: bool = False) -> Judgement:
        """The verdict so far and its wording, by the one rule every output uses."""
        with self._lock:
            return self._summary.judgement(threshold, trained, still_images)

    def summary(self) -> VerdictSummary:
        """A copy of the video-level summary so far (for the summary record of a run)."""
        with self._lock:
            return self._summary.copy()

    def median_latency_ms(self) -> float | None:
        """Median latency of the last verdicts."""
        with self._lock:
            return float(np.median(self._latencies_ms)) if self._latencies_ms else None
