"""The two-input detector: the ImageNet RGB backbone on the face crop, and a small CNN trained from scratch
on the high-frequency residual of the face at its native resolution, fused per crop, LSTM over the window.

The residual is ``x - up(down(x))`` with 2x nearest-neighbour resampling (NPR, Tan et al., CVPR 2024):
each 2x2 block minus its top-left pixel. Upsampling layers of generators and the resizing of pasted
faces leave a trace in these neighbour-pixel relations that a 128 px resize of the crop erases;
the canvas (``faces.crops.native_canvas``) keeps the frame's own pixels for faces up to its size.
The residual branch also predicts where a face was manipulated (``mask_logits``), a training-only
target taken from the synthesis masks.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from models.architectures import register_architecture
from models.backbones import Backbone, build_backbone
from models.detector import build_lstm_head
from models.spec import ModelSpec

ARCHITECTURE = "cnn_npr_lstm"
RESIDUAL_WIDTHS = (24, 48, 64, 96)  # channels of the residual branch's stride-2 stages


def npr_residual(canvas: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) -> the same minus its 2x nearest down-up copy (H and W even)."""
    anchors = canvas[:, :, ::2, ::2]
    return canvas - anchors.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)


def _stage(channels_in: int, channels_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels_out, channels_out, 3, padding=1, groups=channels_out, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
    )


class ResidualBranch(nn.Module):
    """Canvas (N, 3, C, C) in [0, 1] -> (N, 2 * last width) features: mean and max over space of the
    residual CNN's last map. A 2x2 pixel-unshuffle first turns the four phases of each block into
    channels, so the first convolution sees the neighbour relations themselves at half the cost."""

    def __init__(self, widths: tuple[int, ...] = RESIDUAL_WIDTHS) -> None:
        super().__init__()
        self.unshuffle = nn.PixelUnshuffle(2)
        stages, channels = [], 12
        for width in widths:
            stages.append(_stage(channels, width))
            channels = width
        self.stages = nn.ModuleList(stages)
        self.mask_head = nn.Conv2d(widths[-2], 1, 1)  # on the stride-16 map of the canvas
        self.feature_dim = 2 * widths[-1]

    def maps(self, canvas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The last map and the stride-16 map (for the mask head)."""
        x = self.unshuffle(npr_residual(canvas) * 4.0)  # residuals are small: scale into BatchNorm's range
        before_last = x
        for stage in self.stages:
            before_last = x
            x = stage(x)
        return x, before_last

    def forward(self, canvas: torch.Tensor) -> torch.Tensor:
        last, _ = self.maps(canvas)
        return torch.cat([last.mean(dim=(2, 3)), last.amax(dim=(2, 3))], dim=1)

    def features_and_mask(self, canvas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        last, middle = self.maps(canvas)
        features = torch.cat([last.mean(dim=(2, 3)), last.amax(dim=(2, 3))], dim=1)
        return features, self.mask_head(middle).squeeze(1)


class NativeCnnLstm(nn.Module):
    """Scores windows of (crop, canvas) pairs; ``embed`` runs once per crop, ``score_features`` per window."""

    def __init__(self, backbone: Backbone, residual: ResidualBranch, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.residual = residual
        self.head = head
        self.feature_dim = backbone.feature_dim + residual.feature_dim

    def embed(self, crops: torch.Tensor, canvases: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) normalised crops and (N, 3, C, C) canvases in [0, 1] -> (N, feature_dim) features."""
        return torch.cat([self.backbone(crops), self.residual(canvases)], dim=1)

    def embed_with_mask(self, crops: torch.Tensor, canvases: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features and the residual branch's manipulation-mask logits (N, C/16, C/16), for training."""
        residual, mask = self.residual.features_and_mask(canvases)
        return torch.cat([self.backbone(crops), residual], dim=1), mask

    def score_features(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, feature_dim) windows of features -> (B,) logits."""
        return self.head(features)


def _build_native(spec: ModelSpec, pretrained_backbone: bool) -> NativeCnnLstm:
    if spec.canvas_size < 32 or spec.canvas_size % 32:
        raise KeyError(f"architecture {ARCHITECTURE} needs a canvas size that is a multiple of 32: {spec.canvas_size}")
    backbone = build_backbone(spec.backbone, pretrained=pretrained_backbone)
    residual = ResidualBranch()
    head = build_lstm_head(backbone.feature_dim + residual.feature_dim, spec.hidden_size, spec.lstm_layers)
    return NativeCnnLstm(backbone, residual, head)


def mask_target(masks: torch.Tensor, size: int) -> torch.Tensor:
    """(N, C, C) synthesis masks in [0, 1] -> (N, size, size) area-averaged targets for the mask head."""
    return functional.adaptive_avg_pool2d(masks[:, None], size).squeeze(1)


register_architecture(ARCHITECTURE, _build_native)
