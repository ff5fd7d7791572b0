"""Logistic regression on fixed features (L-BFGS in torch, class-balanced, L2-penalised): the probe's fit."""

from __future__ import annotations

import numpy as np
import torch


def fit_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    l2: float = 1e-3,
    seed: int = 0,
    weights: np.ndarray | None = None,
    balanced: bool = True,
    twin_differences: np.ndarray | None = None,
    twin_weight: float = 0.0,
) -> tuple[np.ndarray, float]:
    """(weight (D,), bias) minimising the class-balanced log loss + ``l2`` * |w|^2 / 2, plus optionally a
    ranking loss over twins.

    Classes are weighted to equal total weight, so the few fakes count as much as the many reals;
    ``weights`` (optional, one per sample) shares each class's weight among its samples (default: equally).
    ``balanced=False`` weighs every sample alike instead (a calibration fit that keeps the data's prior).
    ``twin_differences`` (M, D): a fake's features minus those of its real twin (the same footage);
    ``twin_weight`` times their mean -log sigmoid(w . difference) is added, so the weight also learns to
    rank each fake above its own twin, where only the manipulation differs and the footage does not.
    """
    torch.manual_seed(seed)
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    y = torch.from_numpy(np.asarray(labels, dtype=np.float32))
    positives = float(y.sum())
    if positives in (0.0, float(len(y))):
        raise ValueError("a logistic fit needs both real and fake examples")
    within = torch.ones_like(y) if weights is None else torch.from_numpy(np.asarray(weights, dtype=np.float32))
    fake_total, real_total = float(within[y > 0].sum()), float(within[y == 0].sum())
    if balanced:
        sample_weight = within * torch.where(y > 0, 0.5 / fake_total, 0.5 / real_total)
    else:
        sample_weight = within / float(within.sum())
    weight = torch.zeros(x.shape[1], requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=500, line_search_fn="strong_wolfe")
    twins = None
    if twin_differences is not None and len(twin_differences) and twin_weight > 0:
        twins = torch.from_numpy(np.ascontiguousarray(twin_differences, dtype=np.float32))

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = x @ weight + bias
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none") * sample_weight).sum()
        loss = loss + 0.5 * l2 * (weight**2).sum()
        if twins is not None:
            loss = loss + twin_weight * torch.nn.functional.softplus(-(twins @ weight)).mean()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weight.detach().numpy().copy(), float(bias.detach())
