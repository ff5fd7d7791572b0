"""The detector in torch: the CUDA path (fp16, channels_last) and ``--runtime torch`` on the CPU.

Offers the calls of :class:`realtime.scorers.Scorer`; features leave the device as numpy rows, so
the inference thread and the windowing are the same whatever runs the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from models.architectures import LoadedModel
from models.preprocess import canvas_input, crop_input
from realtime.scorers import by_length, p_fake_of


class TorchScorer:
    """A loaded checkpoint on ``device``; the only object that touches the model (from the inference thread)."""

    runtime = "torch"

    def __init__(self, loaded: LoadedModel, device: torch.device) -> None:
        self.spec = loaded.spec
        self.torch_device = device
        self.device = device.type
        self.wants_canvas = loaded.spec.canvas_size > 0
        self.model = loaded.model.to(device).eval()
        self.half = device.type == "cuda"
        if self.half:
            # fp16 with channels_last is what tensor cores run fastest.
            self.model = self.model.half().to(memory_format=torch.channels_last)

    def _tensor(self, batch: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(batch).to(self.torch_device, non_blocking=True)
        if self.half:
            tensor = tensor.half().contiguous(memory_format=torch.channels_last)
        return tensor

    @torch.inference_mode()
    def embed(self, crops: Sequence[np.ndarray], canvases: Sequence[np.ndarray] | None = None) -> np.ndarray:
        inputs = [self._tensor(crop_input(crops, self.spec.mean, self.spec.std))]
        if self.wants_canvas:
            if canvases is None:
                raise ValueError("this model reads a native canvas with every crop")
            inputs.append(self._tensor(canvas_input(canvases)))
        return self.model.embed(*inputs).float().cpu().numpy()

    @torch.inference_mode()
    def probabilities(self, windows: Sequence[np.ndarray]) -> list[float]:
        result = [0.0] * len(windows)
        dtype = torch.float16 if self.half else torch.float32
        for positions in by_length(windows).values():
            stacked = torch.from_numpy(np.stack([windows[p] for p in positions])).to(self.torch_device, dtype)
            logits = self.model.score_features(stacked).float().cpu().numpy()
            for position, p_fake in zip(positions, p_fake_of(logits, self.spec.temperature), strict=True):
                result[position] = float(p_fake)
        return result
