"""Heads over cached CLIP readings: linear experts per kind of evidence, scored against the training reals
and fused by their maximum, and how they are calibrated and evaluated.

An expert is a class-balanced logistic regression (``training.logistic``) of training reals against one
set of training fakes (the collected fakes; blending families; re-rendered and animated faces...), on
L2-normalised token summaries, with optional hypersphere augmentation: extra samples interpolated
between two normalised features of one class and projected back onto the sphere (LNCLIP-DF's latent
augmentation). Its score is standardised by its mean and spread over training real crops, so experts
trained on different fakes speak in one unit; a crop's score is the largest, a window's the mean of its
crops' (``models.clip_detector.ExpertsHead``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from models.clip.graph import TokenSummary
from models.clip_detector import normalized_summaries
from training.logistic import fit_logistic
from training.samples import Window

WindowFilter = Callable[[Window], bool]


@dataclass(frozen=True)
class ExpertRecipe:
    """Which training fakes an expert learns, against every training real."""

    name: str
    fakes: WindowFilter
    description: str


@dataclass(frozen=True)
class Expert:
    name: str
    weight: np.ndarray  # (K * 768,)
    bias: float
    real_mean: float
    real_std: float


def normalized(windows: Sequence[Window], summaries: Sequence[TokenSummary]) -> np.ndarray:
    """Every crop of ``windows`` as L2-normalised summaries, (sum of T, K * 768) float32."""
    if not windows:
        return np.zeros((0, len(summaries) * 768), np.float32)
    stacked = np.concatenate([window.select(summaries) for window in windows])
    return normalized_summaries(torch.from_numpy(stacked), len(summaries)).numpy()


def sphere_mix(features: np.ndarray, count: int, summary_count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` samples between random pairs of rows, each summary renormalised onto its sphere."""
    if len(features) < 2 or count <= 0:
        return features[:0]
    first, second = rng.integers(len(features), size=(2, count))
    mix = rng.uniform(0.0, 1.0, size=(count, 1)).astype(np.float32)
    blended = mix * features[first] + (1 - mix) * features[second]
    return normalized_summaries(torch.from_numpy(blended), summary_count).numpy()


def fit_expert(
    name: str,
    reals: np.ndarray,
    fakes: np.ndarray,
    summary_count: int,
    l2: float,
    augment: float = 0.0,
    seed: int = 0,
    fake_weights: np.ndarray | None = None,
    twin_differences: np.ndarray | None = None,
    twin_weight: float = 0.0,
) -> Expert:
    """An expert of ``fakes`` against ``reals`` (normalised crop readings); ``augment``: hypersphere samples
    added per class, as a share of the class's own count; ``fake_weights``: how the fakes share their class's
    weight (default: equally; hypersphere samples weigh as the mean fake); ``twin_differences`` and
    ``twin_weight``: the ranking term of :func:`training.logistic.fit_logistic`."""
    rng = np.random.default_rng(seed)
    extra_reals = sphere_mix(reals, int(augment * len(reals)), summary_count, rng)
    extra_fakes = sphere_mix(fakes, int(augment * len(fakes)), summary_count, rng)
    x = np.concatenate([reals, extra_reals, fakes, extra_fakes])
    y = np.r_[np.zeros(len(reals) + len(extra_reals)), np.ones(len(fakes) + len(extra_fakes))]
    weights = None
    if fake_weights is not None:
        mean = float(np.mean(fake_weights))
        weights = np.r_[np.full(len(reals) + len(extra_reals), 1.0), fake_weights, np.full(len(extra_fakes), mean)]
    weight, bias = fit_logistic(x, y, l2, seed, weights, twin_differences=twin_differences, twin_weight=twin_weight)
    raw = reals @ weight + bias
    return Expert(name, weight, bias, float(raw.mean()), float(raw.std() + 1e-6))


def expert_scores(experts: Sequence[Expert], features: np.ndarray) -> np.ndarray:
    """(N, E) standardised scores of normalised crop readings."""
    weights = np.stack([expert.weight for expert in experts], axis=1)
    bias = np.array([expert.bias for expert in experts])
    mean = np.array([expert.real_mean for expert in experts])
    std = np.array([expert.real_std for expert in experts])
    return (features @ weights + bias - mean) / std


def fused_crop_scores(experts: Sequence[Expert], features: np.ndarray) -> np.ndarray:
    """(N,) the largest standardised expert score of each crop."""
    return expert_scores(experts, features).max(axis=1)


def fit_platt(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """scale, offset of a logistic fit of labels on one score (validation windows): the head's logit."""
    # Not class-balanced: a p_fake should not pretend that half of what it sees is fake.
    weight, bias = fit_logistic(scores[:, None].astype(np.float32), labels, l2=1e-6, balanced=False)
    return float(weight[0]), bias
