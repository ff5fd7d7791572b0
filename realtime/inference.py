"""The inference thread: owns the model and the accelerator, batches crops and windows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.frames import FaceCrop, Verdict
from realtime.inbox import InferenceInbox
from realtime.messages import InferenceMessage, TrackEnded
from realtime.scorers import Scorer
from realtime.windowing import TrackWindows, WindowEntry


@dataclass(frozen=True)
class ScoringSettings:
    """How windows are formed and read; defaults come from the model spec."""

    window: int
    stride: int
    threshold: float
    max_batch: int = 32  # crops per backbone pass
    first_window: int | None = None  # entries before a face's first window (None: a full window)


class DeviceUnavailable(Exception):
    """``--device cuda`` on a machine without a usable GPU, or a runtime that is not installed."""


def select_device(requested: str) -> str:
    """``cpu`` or ``cuda``; ``auto`` picks cuda when a GPU is usable.

    torch is imported only when a GPU may be there (NVIDIA device nodes exist) or is asked for, so
    the CPU analysis path starts without it.
    """
    if requested not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {requested!r}")
    if requested == "cpu" or (requested == "auto" and not Path("/dev/nvidiactl").exists()):
        return "cpu"
    try:
        import torch
    except ImportError:
        if requested == "cuda":
            raise DeviceUnavailable("--device cuda needs torch, which is not installed (full install)") from None
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        raise DeviceUnavailable("--device cuda was requested but no CUDA GPU is available")
    return "cpu"


def label_for(p_fake: float, threshold: float, trained: bool) -> str:
    """``fake``/``real`` at the threshold; "untrained" when the model cannot give verdicts."""
    if not trained:
        return "untrained"
    return "fake" if p_fake >= threshold else "real"


class InferenceWorker(threading.Thread):
    """Consumes crops and track/stream ends from ``inbox``; hands each window's verdict to ``on_verdict``.

    The only thread that touches the model. It batches crops across tracks and streams for the
    backbone and windows across tracks for the temporal head. ``on_verdict`` only queues the
    verdict for the sinks' own thread (``realtime.sinks``), so no output can stop the model.
    """

    def __init__(
        self,
        scorer: Scorer,
        settings: ScoringSettings,
        inbox: InferenceInbox,
        on_verdict: Callable[[Verdict], None],
        stream_count: int,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        """``on_end`` runs when the worker stops (every stream ended, or it failed): the sinks' end."""
        super().__init__(name="inference", daemon=True)
        self.on_end = on_end
        self.scorer = scorer
        self.settings = settings
        self.inbox = inbox
        self.on_verdict = on_verdict
        self.stream_count = stream_count
        self._tracks: dict[tuple[str, int], TrackWindows] = {}
        self.windows_scored = 0
        self.crops_embedded = 0
        self.error: str | None = None

    def run(self) -> None:
        streams_ended = 0
        try:
            while streams_ended < self.stream_count:
                batch = self.inbox.take(self.settings.max_batch)
                if batch is None:
                    break
                streams_ended += self._handle(batch)
        except Exception as exc:  # report, and release producers instead of leaving them blocked
            self.error = f"inference failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        finally:
            self.inbox.close()
            if self.on_end is not None:
                self.on_end()

    def _handle(self, batch: list[InferenceMessage]) -> int:
        crops = [m for m in batch if isinstance(m, FaceCrop)]
        features = self._embed(crops) if crops else None
        self.crops_embedded += len(crops)
        due: list[tuple[str, int, list[WindowEntry]]] = []
        streams_ended = 0
        feature_row = 0
        for message in batch:
            if isinstance(message, FaceCrop):
                key = (message.source, message.track_id)
                ring = self._tracks.get(key)
                if ring is None:
                    ring = self._tracks[key] = TrackWindows(
                        self.settings.window, self.settings.stride, self.settings.first_window
                    )
                entry = WindowEntry(
                    message.frame_index, message.pts_s, message.captured_at, features[feature_row], message.name
                )
                feature_row += 1
                window = ring.push(entry)
                if window:
                    due.append((message.source, message.track_id, window))
            elif isinstance(message, TrackEnded):
                key = (message.source, message.track_id)
                ring = self._tracks.pop(key, None)
                window = ring.flush() if ring else None
                if window:
                    due.append((message.source, message.track_id, window))
            else:
                streams_ended += 1
        if due:
            self._emit(due)
        return streams_ended

    def _embed(self, crops: list[FaceCrop]) -> np.ndarray:
        canvases = [c.canvas for c in crops] if crops[0].canvas is not None else None
        return self.scorer.embed([c.crop for c in crops], canvases)

    def _emit(self, due: list[tuple[str, int, list[WindowEntry]]]) -> None:
        probabilities = self.scorer.probabilities([np.stack([e.feature for e in w]) for _, _, w in due])
        now = time.monotonic()
        trained = self.scorer.spec.trained
        for (source, track_id, window), p_fake in zip(due, probabilities, strict=True):
            first, last = window[0], window[-1]
            label = label_for(p_fake, self.settings.threshold, trained)
            self.windows_scored += 1
            self.on_verdict(
                Verdict(
                    source=source,
                    track_id=track_id,
                    first_frame=first.frame_index,
                    last_frame=last.frame_index,
                    start_pts_s=round(first.pts_s, 4),
                    end_pts_s=round(last.pts_s, 4),
                    window_frames=len(window),
                    p_fake=round(p_fake, 4),
                    label=label,
                    latency_ms=round((now - last.captured_at) * 1000.0, 1),
                    name=last.name,
                )
            )
