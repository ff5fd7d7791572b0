"""What the inference thread runs: crops -> features, feature windows -> p_fake (the temperature-scaled score).

:class:`OnnxScorer` runs the whole detector (the CNN backbone and native residual branch, or the
CLIP tower's float graph, then the head) in ONNX Runtime with numpy only: the CPU path never imports
torch. The torch scorer (CUDA, or ``--runtime torch``) lives in ``realtime.torch_scorer`` and offers
the same two calls.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from models.onnx_files import OnnxDetector
from models.onnx_runtime import onnx_session
from models.preprocess import canvas_input, crop_input
from models.spec import ModelSpec


class Scorer(Protocol):
    """The two calls the inference thread makes; features are float32 numpy rows."""

    spec: ModelSpec
    device: str  # "cpu" or "cuda"
    runtime: str  # "onnxruntime" or "torch"

    def embed(self, crops: Sequence[np.ndarray], canvases: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """(N, S, S, 3) uint8 crops (and (N, C, C, 3) canvases when the model reads them) -> (N, D)."""
        ...

    def probabilities(self, windows: Sequence[np.ndarray]) -> list[float]:
        """Windows of features (each T x D, T may differ) -> p_fake per window (sigmoid of logit / temperature)."""
        ...


def p_fake_of(logits: np.ndarray, temperature: float) -> np.ndarray:
    """p_fake = sigmoid(logit / T), T fitted on validation clips (training.calibration)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, np.float64) / temperature))


def by_length(windows: Sequence[np.ndarray]) -> dict[int, list[int]]:
    """Positions of the windows grouped by their length, so each group is one batch."""
    groups: dict[int, list[int]] = defaultdict(list)
    for position, window in enumerate(windows):
        groups[window.shape[0]].append(position)
    return groups


class OnnxScorer:
    """The exported detector in ONNX Runtime on the CPU."""

    device = "cpu"
    runtime = "onnxruntime"

    def __init__(self, detector: OnnxDetector, threads: int) -> None:
        self.spec = detector.spec
        self.wants_canvas = detector.wants_canvas
        self._embed = onnx_session(detector.embed_model(), threads)
        self._head = onnx_session(detector.head_model, threads)
        # A CNN export names its input "crops", the CLIP tower's graph "pixel_values": feed what the file asks for.
        self._crop_input = self._embed.get_inputs()[0].name

    def embed(self, crops: Sequence[np.ndarray], canvases: Sequence[np.ndarray] | None = None) -> np.ndarray:
        feeds = {self._crop_input: crop_input(crops, self.spec.mean, self.spec.std)}
        if self.wants_canvas:
            if canvases is None:
                raise ValueError("this model reads a native canvas with every crop")
            feeds["canvases"] = canvas_input(canvases)
        return self._embed.run(None, feeds)[0]

    def probabilities(self, windows: Sequence[np.ndarray]) -> list[float]:
        result = [0.0] * len(windows)
        for positions in by_length(windows).values():
            stacked = np.ascontiguousarray(np.stack([windows[p] for p in positions]), dtype=np.float32)
            logits = self._head.run(None, {"windows": stacked})[0]
            for position, p_fake in zip(positions, p_fake_of(logits, self.spec.temperature), strict=True):
                result[position] = float(p_fake)
        return result
