"""Temporal heads: a window of per-crop features -> one fake logit."""

from __future__ import annotations

import torch
from torch import nn


class LstmHead(nn.Module):
    """LSTM over a window of features (batch_first), mean-pooled over time, then a linear logit.

    Mean pooling over all steps (not just the last one) is used identically in training and in
    live inference, so a window of any length >= 1 gives a comparable score.
    """

    def __init__(self, feature_dim: int, hidden_size: int = 256, num_layers: int = 1, dropout: float = 0.2) -> None:
        super().__init__()
        self.lstm = nn.LSTM(feature_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, feature_dim) -> (B,) logits."""
        outputs, _ = self.lstm(features)
        return self.classifier(self.dropout(outputs.mean(dim=1))).squeeze(-1)
