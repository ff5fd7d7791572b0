"""Expert heads on cached readings: complementary experts fused by their maximum, as training scores them
and as the runtime head (models.clip_detector.ExpertsHead) computes them."""

import numpy as np
import torch

from models.clip_detector import ExpertsHead, normalized_summaries
from training.experts import expert_scores, fit_expert, fused_crop_scores, sphere_mix

DIM = 768


def readings(rng, count, shift=None):
    """Normalised one-summary readings around a common direction, optionally pushed along ``shift``."""
    base = np.zeros(DIM, np.float32)
    base[0] = 4.0
    x = base + rng.normal(size=(count, DIM)).astype(np.float32) * 0.3
    if shift is not None:
        x = x + shift
    return normalized_summaries(torch.from_numpy(x), 1).numpy()


def direction(index):
    d = np.zeros(DIM, np.float32)
    d[index] = 1.5
    return d


def auc(negatives, positives):
    return float(np.mean(positives[:, None] > negatives[None, :]))


def test_two_experts_fused_by_their_maximum_catch_both_kinds_of_fake():
    rng = np.random.default_rng(0)
    reals = readings(rng, 300)
    blends, renders = readings(rng, 150, direction(5)), readings(rng, 150, -direction(9))
    blend = fit_expert("blend", reals, blends, 1, l2=1e-3)
    render = fit_expert("render", reals, renders, 1, l2=1e-3)
    test_reals = readings(rng, 200)
    test_blends, test_renders = readings(rng, 100, direction(5)), readings(rng, 100, -direction(9))
    for fakes in (test_blends, test_renders):
        fused = fused_crop_scores([blend, render], np.concatenate([test_reals, fakes]))
        assert auc(fused[:200], fused[200:]) > 0.95
    # Each expert is standardised on the training reals: its real scores have mean 0 and spread 1.
    standardised = expert_scores([blend, render], reals)
    np.testing.assert_allclose(standardised.mean(axis=0), 0.0, atol=1e-3)
    np.testing.assert_allclose(standardised.std(axis=0), 1.0, atol=1e-2)
    # Either expert alone misses the other's kind more often than the fusion does.
    blend_only = fused_crop_scores([blend], np.concatenate([test_reals, test_renders]))
    fused = fused_crop_scores([blend, render], np.concatenate([test_reals, test_renders]))
    assert auc(fused[:200], fused[200:]) > auc(blend_only[:200], blend_only[200:]) + 0.2


def test_the_runtime_head_scores_as_training_does():
    rng = np.random.default_rng(1)
    reals, fakes = readings(rng, 100), readings(rng, 100, direction(3))
    experts = [fit_expert(n, reals, fakes if n == "a" else -fakes, 1, l2=1e-3) for n in ("a", "b")]
    head = ExpertsHead(1, 2)
    with torch.no_grad():
        head.linear.weight.copy_(torch.from_numpy(np.stack([e.weight for e in experts])))
        head.linear.bias.copy_(torch.tensor([e.bias for e in experts]))
        head.real_mean.copy_(torch.tensor([e.real_mean for e in experts]))
        head.real_std.copy_(torch.tensor([e.real_std for e in experts]))
        head.scale.fill_(0.8)
        head.offset.fill_(-1.5)
    raw = rng.normal(size=(6, 4, DIM)).astype(np.float32)  # unnormalised: the head normalises
    with torch.no_grad():
        logits = head(torch.from_numpy(raw)).numpy()
    flat = normalized_summaries(torch.from_numpy(raw.reshape(-1, DIM)), 1).numpy()
    expected = (0.8 * fused_crop_scores(experts, flat) - 1.5).reshape(6, 4).mean(axis=1)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_hypersphere_samples_lie_between_their_class_on_the_sphere():
    rng = np.random.default_rng(2)
    fakes = readings(rng, 50, direction(7))
    mixed = sphere_mix(fakes, 200, 1, rng)
    assert mixed.shape == (200, DIM)
    np.testing.assert_allclose(np.linalg.norm(mixed, axis=1), 1.0, atol=1e-5)
    # Interpolations stay in the class's region: closer to the fakes' mean direction than any real is.
    centre = fakes.mean(axis=0)
    assert (mixed @ centre).min() > np.quantile(fakes @ centre, 0.01) - 0.05
