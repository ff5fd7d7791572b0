"""Attention pooling over patch tokens against the CLS token (training.token_pooling), on made-up tokens whose
edit lives in a few patches only."""

import numpy as np
import torch
from torch.nn import functional

from training.metrics import roc_auc
from training.token_pooling import WIDTH, Crops, PoolingHead, clip_scores, fit

TOKENS = 20
EDITED = [3, 4]  # the patches an edit changes (a mouth, say)


def made_up(rng: np.random.Generator, clips: int) -> tuple[Crops, np.ndarray]:
    """Two crops per clip; half the clips fake. The CLS token carries no label; in fakes two patches carry an
    edit direction, while every patch of every crop carries footage noise along that direction too, so the plain
    patch mean drowns the edit in the noise of the other 18 patches."""
    labels = np.repeat(np.arange(clips) % 2, 2)
    edit = np.zeros(WIDTH, np.float32)
    edit[:8] = 1.0
    cls = rng.normal(size=(len(labels), WIDTH)).astype(np.float32)
    tokens = rng.normal(size=(len(labels), TOKENS, WIDTH)).astype(np.float32)
    tokens += rng.normal(scale=1.5, size=(len(labels), 1, 1)).astype(np.float32) * edit  # footage, all patches
    marker = np.zeros(WIDTH, np.float32)
    marker[100:108] = 3.0  # what makes an edited patch stand out to a query: its texture
    for crop in np.flatnonzero(labels):
        tokens[crop, EDITED] += 2.0 * edit + marker
    patches = functional.layer_norm(torch.from_numpy(tokens), (WIDTH,))
    return Crops(torch.from_numpy(cls), patches, np.repeat(np.arange(clips), 2)), labels


def test_a_zero_query_pools_the_plain_patch_mean() -> None:
    head = PoolingHead(attention=True)
    patches = torch.randn(3, TOKENS, WIDTH)
    weights = head.pooling_weights(patches)
    torch.testing.assert_close(weights, torch.full((3, TOKENS), 1 / TOKENS))


def test_attention_finds_an_edit_of_a_few_patches_that_the_cls_token_does_not_carry() -> None:
    rng = np.random.default_rng(0)
    train, train_labels = made_up(rng, 80)
    test, test_labels = made_up(rng, 60)
    clip_labels = test_labels[::2]
    cls_head = fit(train, train_labels, attention=False, l2=1e-3)
    attention_head = fit(train, train_labels, attention=True, l2=1e-3)
    cls_auc = roc_auc(clip_labels, clip_scores(cls_head, test, 60))
    attention_auc = roc_auc(clip_labels, clip_scores(attention_head, test, 60))
    assert abs(cls_auc - 0.5) < 0.2
    assert attention_auc > 0.95
    with torch.no_grad():
        weights = attention_head.pooling_weights(test.patches[test_labels == 1])
    assert weights[:, EDITED].sum(dim=1).mean() > 3 * len(EDITED) / TOKENS  # it learned where to look


def confounded_with_pairs(rng: np.random.Generator, clean: int, pairs: int) -> tuple[Crops, np.ndarray, np.ndarray]:
    """One crop per unit, CLS tokens only. Clean units: fakes differ from reals by where they came from
    (dimensions 0 and 1: their sources sit lower on dimension 1), not by any edit. Pairs: a fake and its real
    twin share their footage, apart from a little noise of their own; the fake adds an edit along dimension 1."""
    labels = np.r_[np.arange(clean) % 2, np.tile([1, 0], pairs)]
    cls = rng.normal(size=(clean + 2 * pairs, WIDTH)).astype(np.float32)
    cls[:clean, 0] += 4.0 * labels[:clean]
    cls[:clean, 1] -= 3.0 * labels[:clean]
    fakes, reals = slice(clean, None, 2), slice(clean + 1, None, 2)
    cls[reals] = cls[fakes] + rng.normal(scale=0.05, size=(pairs, WIDTH)).astype(np.float32)  # the same footage
    cls[fakes, 1] += 1.5  # the edit
    twins = np.stack([np.arange(clean, clean + 2 * pairs, 2), np.arange(clean + 1, clean + 2 * pairs, 2)], axis=1)
    crops = Crops(torch.from_numpy(cls), torch.zeros(len(labels), 0, WIDTH), np.arange(len(labels)))
    return crops, labels, twins


def test_the_twin_ranking_teaches_the_edit_that_the_classes_alone_hide() -> None:
    rng = np.random.default_rng(0)
    # Many clean units, whose sources pull the class fit the wrong way along the edit; few pairs.
    crops, labels, twins = confounded_with_pairs(rng, clean=1000, pairs=30)
    held_out, _, held_twins = confounded_with_pairs(rng, clean=0, pairs=200)

    def above_twin(head: PoolingHead) -> float:
        scores = clip_scores(head, held_out, len(held_out.cls))
        return float(np.mean(scores[held_twins[:, 0]] > scores[held_twins[:, 1]]))

    plain = fit(crops, labels, attention=False, l2=1e-3)
    ranked = fit(crops, labels, attention=False, l2=1e-3, twins=twins, twin_weight=1.0)
    assert above_twin(plain) < 0.2, "the classes alone point the other way along the edit"
    assert above_twin(ranked) > 0.95
    no_weight = fit(crops, labels, attention=False, l2=1e-3, twins=twins, twin_weight=0.0)
    torch.testing.assert_close(no_weight.linear.weight, plain.linear.weight)
