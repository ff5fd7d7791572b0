"""Grad-CAM heatmaps: which parts of a face crop pushed a window's fake score up (needs torch).

The gradient of the window's logit (LSTM head over all crops of the window) flows back to the
backbone's last convolution of every crop; channels are weighted by their mean gradient and the
positive part of the weighted sum, upsampled to the crop, is the heatmap. It serves the CNN detectors
of the registry (``services.scan.heatmaps`` picks it by architecture: it looks for the backbone's last
``Conv2d``, which a ViT has only in its patch embedding); the Qt app can call :class:`GradCam` with the
crops of any window it shows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from faces.crops import FaceImages
from models.preprocess import canvas_input, crop_input
from models.spec import ModelSpec
from services.scan.explain import scaled_heatmaps

Embed = Callable[[list[np.ndarray], list[np.ndarray] | None], np.ndarray]  # the engine's scorer.embed


def last_conv(model: nn.Module) -> nn.Conv2d:
    """The backbone's last convolution (the deepest layer that still has a spatial map)."""
    root = getattr(model, "backbone", model)
    convs = [m for m in root.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("the model's backbone has no Conv2d layer to explain")
    return convs[-1]


class GradCam:
    """Grad-CAM for one detector; call it with the crops of a window.

    ``model`` must offer ``embed`` and ``score_features``; a float32 copy is used, the original is
    never changed. Only the explained crops go through the backbone with gradients, the rest of the
    window under ``no_grad``, so memory stays that of a few crops whatever the window length.
    """

    method = "grad-cam"
    whole_window = True  # the LSTM head reads every crop of the window

    def __init__(self, model: nn.Module, spec: ModelSpec, device: torch.device, embed: Embed | None = None) -> None:
        """``embed`` (e.g. the engine's scorer, ONNX Runtime on CPU) computes the features of the crops that
        need no gradient; default: the model itself."""
        self.model = copy.deepcopy(model).float().to(device).eval()
        self.spec = spec
        self.embed = embed
        self.layer = last_conv(self.model)
        self.device = device

    def _inputs(self, faces: list[FaceImages]) -> list[torch.Tensor]:
        inputs = [torch.from_numpy(crop_input([f.crop for f in faces], self.spec.mean, self.spec.std))]
        if self.spec.canvas_size:
            inputs.append(torch.from_numpy(canvas_input([f.canvas for f in faces])))
        return [tensor.to(self.device) for tensor in inputs]

    def __call__(self, faces: list[FaceImages], explained: Sequence[int] = (-1,)) -> np.ndarray:
        """Heatmaps (len(explained), S, S) in 0-1 of the crops at positions ``explained`` (default: the last).

        Heatmaps of one call share one scale, so they compare. For the two-input detector they show
        where its RGB branch looked; the native residual branch has its own, unexplained, say.
        """
        positions = [p % len(faces) for p in explained]
        inputs = self._inputs(faces)
        with torch.no_grad():
            if self.embed is not None:
                canvases = [f.canvas for f in faces] if self.spec.canvas_size else None
                features = torch.from_numpy(self.embed([f.crop for f in faces], canvases)).to(self.device)
            else:
                features = self.model.embed(*inputs)
        captured: list[torch.Tensor] = []
        handle = self.layer.register_forward_hook(lambda _m, _i, output: captured.append(output))
        try:
            # cuDNN's LSTM has no backward in eval mode; the plain kernels do.
            with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
                with_grad = self.model.embed(*(tensor[positions] for tensor in inputs))
                index = torch.tensor(positions, device=self.device)
                window = features.index_copy(0, index, with_grad)  # the window, gradients through the explained crops
                logit = self.model.score_features(window.unsqueeze(0)).sum()
                (gradient,) = torch.autograd.grad(logit, captured[0])
        finally:
            handle.remove()
        activation = captured[0].detach()
        weights = gradient.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * activation).sum(dim=1)).cpu().numpy()
        return scaled_heatmaps(cam, self.spec.input_size)
