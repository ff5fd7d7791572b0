"""The CNN-LSTM deepfake detector: backbone features per crop, LSTM head per window."""

from __future__ import annotations

import torch
from torch import nn

from models.architectures import register_architecture
from models.backbones import Backbone, build_backbone
from models.checkpoint import ModelSpec
from models.temporal import LstmHead


class CnnLstmDetector(nn.Module):
    """Scores windows of face crops.

    The two halves are exposed separately so the live engine can run the backbone once per
    crop, cache the features, and run only the cheap head when the window slides.
    """

    def __init__(self, backbone: Backbone, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def embed(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) normalised crops -> (N, feature_dim) features."""
        return self.backbone(crops)

    def score_features(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, feature_dim) windows of features -> (B,) logits."""
        return self.head(features)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) windows of crops -> (B,) logits."""
        batch, steps = windows.shape[:2]
        features = self.embed(windows.flatten(0, 1))
        return self.score_features(features.view(batch, steps, -1))


def build_lstm_head(feature_dim: int, hidden_size: int, num_layers: int) -> LstmHead:
    """The default temporal head."""
    return LstmHead(feature_dim, hidden_size=hidden_size, num_layers=num_layers)


def _build_cnn_lstm(spec: ModelSpec, pretrained_backbone: bool) -> CnnLstmDetector:
    backbone = build_backbone(spec.backbone, pretrained=pretrained_backbone)
    return CnnLstmDetector(backbone, build_lstm_head(backbone.feature_dim, spec.hidden_size, spec.lstm_layers))


register_architecture("cnn_lstm", _build_cnn_lstm)
