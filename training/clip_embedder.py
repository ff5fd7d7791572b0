"""Runs the CLIP tower over batches of 224 px face crops for the feature cache: ONNX Runtime on a CPU (the
float graph of ``models.clip.cache``), the torch port on CUDA."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.clip.cache import ClipGraph
from models.clip.graph import TokenSummary
from models.clip.weights import MEAN, STD
from models.preprocess import crop_input


class ClipEmbedder:
    """(N, S, S, 3) uint8 RGB crops -> (N, len(summaries), 768) float32."""

    def __init__(self, summaries: Sequence[TokenSummary], input_size: int = 224, device: str = "cpu", threads: int = 2):
        self.summaries = tuple(summaries)
        self.input_size = input_size
        self.device = device
        if device == "cpu":
            from models.onnx_runtime import onnx_session

            self._session = onnx_session(str(ClipGraph(input_size, self.summaries).path()), threads)
        else:
            import torch

            from models.clip.torch_vit import build_tower

            self._tower = build_tower(self.summaries, input_size).to(device).eval().half()
            self._torch = torch

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        pixels = crop_input(crops, MEAN, STD)
        if self.device == "cpu":
            flat = self._session.run(None, {"pixel_values": pixels})[0]
        else:
            with self._torch.inference_mode():
                tensor = self._torch.from_numpy(pixels).to(self.device).half()
                flat = self._tower(tensor).float().cpu().numpy()
        return flat.reshape(len(crops), len(self.summaries), -1)
