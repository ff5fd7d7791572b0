"""Token-gradient heatmaps for ViT detectors: which 16 px patches of a face crop pushed its fake score up (torch).

For the CLIP ViT-B/16 heads the logit's gradient is taken at the patch tokens of the residual stream
after each of the tower's last :data:`STREAMS` blocks (blocks 8-12 for a head reading ``cls12``), or from
the earliest block the head reads (blocks 6-12 for a head over ``cls6,cls9,cls12``). A
token's relevance in one stream is its gradient x activation summed over the 768 channels (the
first-order share of the logit that token carries there); the relevance of the streams is summed, its
positive part reshaped to the 14 x 14 patch grid and upsampled to the crop is the heatmap.

Why this and not Grad-CAM on the tokens (channel weights = their mean gradient, which suits a CNN's
post-ReLU maps, not a residual stream) or the last block's gradient x attention: on real face crops it
follows the logit best, and a head aligned with what a pasted patch changes finds that patch
(``benchmarks/vit_heatmaps.py``; figures in docs/REPORTS.md).

A head reading the CLS token after block 12 sees the patch tokens only through block 12's attention,
so the tokens after block 12 themselves have no gradient (they add nothing, at no cost); summing over
the last few streams catches evidence that reaches the CLS token before the last block too.

Cost: the forward of blocks 1-7 runs without a graph, the backward crosses the last five blocks only:
about 1.3x a plain forward of one crop (0.32 s on 2 CPU cores), one crop per explained window. The
probe's head is the mean of per-crop logits, so the window's other crops change the gradient of one
crop by nothing but a constant factor (heatmaps are normalised): they are neither decoded nor embedded.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch

from faces.crops import FaceImages
from models.clip.graph import parse_summaries
from models.clip_detector import ClipDetector
from models.preprocess import crop_input
from models.spec import ModelSpec
from services.scan.explain import scaled_heatmaps

STREAMS = 5  # residual streams whose patch-token relevance is summed: after the tower's last 5 blocks


class TokenRelevance:
    """Token-gradient heatmaps for a :class:`ClipDetector` whose head is a mean over per-crop logits.

    A float32 copy of the model is used (the original is never changed and may serve another thread);
    its parameters need no gradient, so only the last blocks build an autograd graph.
    """

    method = "token-gradient"
    whole_window = False  # the probe's window logit is a mean of per-crop logits

    def __init__(self, model: ClipDetector, spec: ModelSpec, device: torch.device) -> None:
        if not isinstance(model, ClipDetector):
            raise TypeError(f"token relevance explains a ClipDetector, not {type(model).__name__}")
        self.model = copy.deepcopy(model).float().to(device).eval().requires_grad_(False)
        self.spec = spec
        self.device = device
        blocks = list(self.model.tower.blocks)
        # From the earliest block the head reads (a head over blocks 6, 9 and 12 reads the CLS token after
        # block 6, which the last five streams would miss), and at least the last STREAMS blocks.
        first = min([summary.block for summary in parse_summaries(spec.token_summaries)] + [len(blocks) - STREAMS + 1])
        self.layers = blocks[first - 1 :]

    def relevance(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) normalised crops -> (N, g, g) positive patch relevance to the logit (unscaled).

        The crops form one window (a mean over crops: each crop's map is its own logit's, over N).
        """
        streams: list[torch.Tensor] = []

        def keep(_module: torch.nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor | None:
            if streams:
                streams.append(output)
                return None
            # The first kept stream starts the graph: nothing before it is differentiated.
            start = output.detach().requires_grad_(True)
            streams.append(start)
            return start

        handles = [layer.register_forward_hook(keep) for layer in self.layers]
        try:
            with torch.enable_grad():
                logit = self.model.score_features(self.model.embed(crops).unsqueeze(0)).sum()
                gradients = torch.autograd.grad(logit, streams)
        finally:
            for handle in handles:
                handle.remove()
        tokens = sum((g * s.detach()).sum(dim=-1) for g, s in zip(gradients, streams, strict=True))[:, 1:]
        side = round(tokens.shape[1] ** 0.5)
        return torch.relu(tokens).reshape(-1, side, side)

    def __call__(self, faces: list[FaceImages], explained: Sequence[int] = (-1,)) -> np.ndarray:
        """Heatmaps (len(explained), S, S) in 0-1 of the crops at positions ``explained`` (default: the last),
        on one scale. Only those crops are read."""
        crops = [faces[p % len(faces)].crop for p in explained]
        batch = torch.from_numpy(crop_input(crops, self.spec.mean, self.spec.std)).to(self.device)
        return scaled_heatmaps(self.relevance(batch).cpu().numpy(), self.spec.input_size)
