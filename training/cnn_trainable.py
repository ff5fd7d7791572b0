"""The CNN detectors as :class:`training.trainable.Trainable`: ``cnn_lstm`` (an ImageNet backbone per crop, an
LSTM over the window) and ``cnn_npr_lstm`` (the same plus the native-resolution residual branch and its
manipulation-mask head, ``models.native``).

Both train a linear frame classifier on the per-crop features in stage 1; stage 2 warm-starts the detector's
LSTM head as the mean over time of that classifier and trains it on frozen features.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from models.detector import CnnLstmDetector
from models.native import ARCHITECTURE as NATIVE_ARCHITECTURE
from models.native import NativeCnnLstm, mask_target
from models.temporal import LstmHead
from training.train_config import TrainConfig
from training.trainable import OVERALL, CropBatch, Trainable


class FrameClassifier(nn.Module):
    """Stage 1's head: a linear logit on the per-crop features."""

    def __init__(self, feature_dim: int) -> None:
        super().__init__()
        self.dropout = nn.Dropout(0.2)
        self.linear = nn.Linear(feature_dim, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(features)).squeeze(-1)


def warm_start_lstm_head(head: LstmHead, frame_head: nn.Linear, input_scale: float, gate_bias: float = 6.0) -> None:
    """Sets the LSTM head to start as the mean over time of the frame classifier's (squashed) logits.

    LSTM unit 0 gets the frame classifier as its cell input, an input and output gate held open and a
    forget gate held shut, so h_t = tanh(tanh(input_scale * frame_logit_t)); the output layer reads only
    that unit. The other units keep their random input weights but start unread, so training adds
    temporal evidence on top of a head that already scores like the frame classifier. ``input_scale``
    should bring typical frame logits into tanh's near-linear range (see :func:`warm_start_scale`).
    """
    if head.lstm.num_layers != 1:
        raise ValueError("warm start supports single-layer LSTM heads")
    hidden = head.lstm.hidden_size
    with torch.no_grad():
        for parameter in head.lstm.parameters():
            parameter.view(4, hidden, -1)[:, 0] = 0.0  # rows of unit 0 in each gate (input, forget, cell, output)
        head.lstm.weight_ih_l0.view(4, hidden, -1)[2, 0] = input_scale * frame_head.weight[0]
        head.lstm.bias_ih_l0.view(4, hidden)[:, 0] = torch.tensor(
            [gate_bias, -gate_bias, input_scale * float(frame_head.bias[0]), gate_bias]
        )
        head.classifier.weight.zero_()
        head.classifier.weight[0, 0] = 1.0 / input_scale
        head.classifier.bias.zero_()


def warm_start_scale(frame_logits: torch.Tensor) -> float:
    """Scale mapping 95% of ``frame_logits`` into [-0.5, 0.5]."""
    return float(0.5 / max(np.percentile(np.abs(frame_logits.detach().float().cpu().numpy()), 95), 1e-3))


class CnnTrainable(Trainable):
    """What the CNN detectors share: a linear frame classifier on the per-crop features (binary
    cross-entropy), the detector's LSTM head over windows, warm-started from the frame classifier."""

    detector: CnnLstmDetector | NativeCnnLstm

    def __init__(self, detector: CnnLstmDetector | NativeCnnLstm, feature_dim: int, config: TrainConfig) -> None:
        super().__init__()
        self.detector = detector
        self.frame_classifier = FrameClassifier(feature_dim)
        self.config = config

    def classifier(self, features: torch.Tensor) -> torch.Tensor:
        return self.frame_classifier(features)

    def losses(self, batch: CropBatch, outputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if batch.labels is None:
            raise ValueError("losses need a labelled batch")
        classification = functional.binary_cross_entropy_with_logits(outputs["logits"], batch.labels)
        return {"classification": classification, OVERALL: classification}

    def parameter_groups(self) -> list[dict]:
        return [
            {"params": self.detector.backbone.parameters(), "lr": self.config.backbone_lr},
            {"params": self.frame_classifier.parameters(), "lr": self.config.head_lr},
        ]

    @property
    def window_head(self) -> LstmHead:
        return self.detector.head

    def start_window_head(self, features: torch.Tensor) -> None:
        linear = self.frame_classifier.linear
        with torch.no_grad():
            logits = linear(features.reshape(-1, features.shape[-1]).to(linear.weight.device)).squeeze(-1)
        warm_start_lstm_head(self.window_head, linear, warm_start_scale(logits))


class CnnLstmTrainable(CnnTrainable):
    """``cnn_lstm``: backbone features of the RGB crop."""

    architecture = "cnn_lstm"
    reads_canvas = False
    detector: CnnLstmDetector

    def __init__(self, detector: CnnLstmDetector, config: TrainConfig) -> None:
        super().__init__(detector, detector.backbone.feature_dim, config)

    def features(self, batch: CropBatch) -> dict[str, torch.Tensor]:
        return {"features": self.detector.embed(batch.crops)}


class NativeCnnLstmTrainable(CnnTrainable):
    """``cnn_npr_lstm``: the RGB backbone and the residual branch on the native canvas, fused per crop; the
    residual branch also learns where a synthesized fake was manipulated (its mask loss, weighted by
    ``mask_weight``, counted only where the mask is known) and has its own learning rate."""

    architecture = NATIVE_ARCHITECTURE
    reads_canvas = True
    detector: NativeCnnLstm

    def __init__(self, detector: NativeCnnLstm, config: TrainConfig) -> None:
        super().__init__(detector, detector.feature_dim, config)

    def features(self, batch: CropBatch) -> dict[str, torch.Tensor]:
        features, mask_logits = self.detector.embed_with_mask(batch.crops, batch.canvases)
        return {"features": features, "mask_logits": mask_logits}

    def losses(self, batch: CropBatch, outputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        named = super().losses(batch, outputs)
        if batch.masks is None or batch.mask_weights is None:
            raise ValueError("the mask loss needs the batch's masks and their weights")
        mask_logits = outputs["mask_logits"]
        targets = mask_target(batch.masks, mask_logits.shape[-1])
        per_crop = functional.binary_cross_entropy_with_logits(mask_logits, targets, reduction="none").mean(dim=(1, 2))
        mask = (per_crop * batch.mask_weights).sum() / batch.mask_weights.sum().clamp(min=1.0)
        return {**named, "mask": mask, OVERALL: named["classification"] + self.config.mask_weight * mask}

    def parameter_groups(self) -> list[dict]:
        backbone, classifier = super().parameter_groups()
        residual = {"params": self.detector.residual.parameters(), "lr": self.config.residual_lr}
        return [backbone, residual, classifier]


TRAINABLES: dict[str, type[CnnTrainable]] = {
    kind.architecture: kind for kind in (CnnLstmTrainable, NativeCnnLstmTrainable)
}


def build_trainable(detector: nn.Module, config: TrainConfig) -> CnnTrainable:
    """The adapter of ``config.architecture`` around a detector built for it (``models.registry.build_model``)."""
    return trainable_kind(config.architecture)(detector, config)


def trainable_kind(architecture: str) -> type[CnnTrainable]:
    """The adapter class of ``architecture``."""
    if architecture not in TRAINABLES:
        raise ValueError(f"no trainer for architecture {architecture!r}; trainable: {', '.join(sorted(TRAINABLES))}")
    return TRAINABLES[architecture]
