"""The inference thread: owns the model and the accelerator, batches crops and windows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import file_sha256
from models.onnx_backbone import OnnxBackbone, cached_onnx_backbone, onnx_runtime_available
from models.registry import LoadedModel
from realtime.frame_queue import BoundedQueue
from realtime.frames import FaceCrop, Verdict
from realtime.windowing import TrackWindows, WindowEntry


@dataclass(frozen=True)
class TrackEnded:
    """A face left (or its stream ended): flush and forget its window ring."""

    source: str
    track_id: int


@dataclass(frozen=True)
class StreamEnded:
    """No more messages will come from this source."""

    source: str


InferenceMessage = FaceCrop | TrackEnded | StreamEnded


@dataclass(frozen=True)
class ScoringSettings:
    """How windows are formed and read; defaults come from the model spec."""

    window: int
    stride: int
    threshold: float
    max_batch: int = 32  # crops per backbone pass


class DeviceUnavailable(Exception):
    """``--device cuda`` on a machine without a usable GPU."""


def select_device(requested: str) -> torch.device:
    """``auto`` picks cuda when present, else cpu."""
    if requested not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {requested!r}")
    if requested == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailable("--device cuda was requested but no CUDA GPU is available")
    if requested == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


class CropScorer:
    """Runs the model: crops -> features, feature windows -> calibrated fake probabilities."""

    def __init__(self, loaded: LoadedModel, device: torch.device, onnx_backbone: OnnxBackbone | None = None) -> None:
        self.spec = loaded.spec
        self.device = device
        self.model = loaded.model.to(device).eval()
        self.onnx_backbone = onnx_backbone
        self.runtime = "onnxruntime" if onnx_backbone is not None else "torch"
        # uint8 -> normalised float in one multiply-add: x * scale + offset.
        std = np.asarray(self.spec.std, np.float32)
        self._np_scale = (1.0 / (255.0 * std)).reshape(1, 3, 1, 1)
        self._np_offset = (-np.asarray(self.spec.mean, np.float32) / std).reshape(1, 3, 1, 1)
        self.half = device.type == "cuda"
        if self.half:
            # fp16 with channels_last is what tensor cores run fastest.
            self.model = self.model.half().to(memory_format=torch.channels_last)
        dtype = torch.float16 if self.half else torch.float32
        self._mean = torch.tensor(self.spec.mean, device=device, dtype=dtype).view(1, 3, 1, 1)
        self._std = torch.tensor(self.spec.std, device=device, dtype=dtype).view(1, 3, 1, 1)

    @torch.inference_mode()
    def embed(self, crops: list[np.ndarray]) -> torch.Tensor:
        """(N, S, S, 3) uint8 RGB crops -> (N, D) features (on the device)."""
        if self.onnx_backbone is not None:
            batch = np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32)
            batch = batch * self._np_scale + self._np_offset
            return torch.from_numpy(self.onnx_backbone(np.ascontiguousarray(batch)))
        # Upload uint8 and normalise on the device: a quarter of the bytes of float input.
        batch = torch.from_numpy(np.stack(crops)).to(self.device, non_blocking=True)
        batch = batch.permute(0, 3, 1, 2).to(self._mean.dtype).div_(255.0)
        batch = (batch - self._mean) / self._std
        if self.half:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return self.model.embed(batch)

    @torch.inference_mode()
    def probabilities(self, windows: list[torch.Tensor]) -> list[float]:
        """Windows of features (each T x D, T may differ) -> calibrated p_fake per window."""
        result: list[float] = [0.0] * len(windows)
        by_length: dict[int, list[int]] = {}
        for position, window in enumerate(windows):
            by_length.setdefault(window.shape[0], []).append(position)
        for positions in by_length.values():
            logits = self.model.score_features(torch.stack([windows[p] for p in positions]))
            probs = torch.sigmoid(logits.float() / self.spec.temperature).cpu().tolist()
            for position, prob in zip(positions, probs, strict=True):
                result[position] = prob
        return result


def label_for(p_fake: float, threshold: float, trained: bool) -> str:
    """``fake``/``real`` at the threshold; "untrained" when the model cannot give verdicts."""
    if not trained:
        return "untrained"
    return "fake" if p_fake >= threshold else "real"


def make_scorer(loaded: LoadedModel, device: torch.device, runtime: str, threads: int, cache_dir: Path) -> CropScorer:
    """A scorer on ``device``; on cpu the backbone runs in ONNX Runtime when ``runtime`` allows it.

    ``runtime``: ``auto`` (ONNX Runtime on cpu when installed, torch otherwise), ``torch`` or ``onnx``.
    """
    if runtime not in ("auto", "torch", "onnx"):
        raise ValueError(f"runtime must be auto, torch or onnx, not {runtime!r}")
    backbone = getattr(loaded.model, "backbone", None)
    wants_onnx = runtime == "onnx" or (runtime == "auto" and device.type == "cpu" and onnx_runtime_available())
    if not wants_onnx or backbone is None or device.type != "cpu":
        if runtime == "onnx":
            raise DeviceUnavailable("--runtime onnx runs on cpu only, with a model that has a plain backbone")
        return CropScorer(loaded, device)
    source = Path(loaded.source)
    identity = file_sha256(source) if source.is_file() else loaded.source
    session = cached_onnx_backbone(backbone, loaded.spec.input_size, identity, cache_dir, threads)
    return CropScorer(loaded, device, session)


class InferenceWorker(threading.Thread):
    """Consumes crops and track/stream ends from ``inbox``; calls ``on_verdict`` per window.

    The only thread that touches the model. It batches crops across tracks and streams for the
    backbone and windows across tracks for the temporal head.
    """

    def __init__(
        self,
        scorer: CropScorer,
        settings: ScoringSettings,
        inbox: BoundedQueue[InferenceMessage],
        on_verdict: Callable[[Verdict], None],
        stream_count: int,
    ) -> None:
        super().__init__(name="inference", daemon=True)
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
                batch = self.inbox.get_batch(self.settings.max_batch)
                if batch is None:
                    break
                streams_ended += self._handle(batch)
        except Exception as exc:  # report, and release producers instead of leaving them blocked
            self.error = f"inference failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        finally:
            self.inbox.close()

    def _handle(self, batch: list[InferenceMessage]) -> int:
        crops = [m for m in batch if isinstance(m, FaceCrop)]
        features = self.scorer.embed([c.crop for c in crops]) if crops else None
        self.crops_embedded += len(crops)
        due: list[tuple[str, int, list[WindowEntry]]] = []
        streams_ended = 0
        feature_row = 0
        for message in batch:
            if isinstance(message, FaceCrop):
                key = (message.source, message.track_id)
                ring = self._tracks.get(key)
                if ring is None:
                    ring = self._tracks[key] = TrackWindows(self.settings.window, self.settings.stride)
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

    def _emit(self, due: list[tuple[str, int, list[WindowEntry]]]) -> None:
        probabilities = self.scorer.probabilities([torch.stack([e.feature for e in w]) for _, _, w in due])
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
