"""The logistic fit behind every head: class balance, and the ranking term over fakes and their real twins."""

import numpy as np

from training.logistic import fit_logistic

DIMS = 20


def confounded(rng, count):
    """Reals and fakes that differ by where they came from (dimension 0), not by any edit."""
    reals = rng.normal(size=(count, DIMS)).astype(np.float32)
    fakes = rng.normal(size=(count, DIMS)).astype(np.float32)
    fakes[:, 0] += 3.0
    return np.concatenate([reals, fakes]), np.r_[np.zeros(count), np.ones(count)]


def edits(rng, count):
    """Fake minus real twin: the edit (dimension 1) and a little noise; the footage cancels."""
    differences = rng.normal(scale=0.1, size=(count, DIMS)).astype(np.float32)
    differences[:, 1] += 0.5
    return differences


def test_the_ranking_term_teaches_the_edit_that_the_classes_alone_do_not_show():
    rng = np.random.default_rng(0)
    features, labels = confounded(rng, 200)
    held_out = edits(rng, 200)

    plain, _ = fit_logistic(features, labels, l2=1e-2)
    ranked, bias = fit_logistic(features, labels, l2=1e-2, twin_differences=edits(rng, 100), twin_weight=1.0)

    assert np.mean(held_out @ plain > 0) < 0.8, "the confound alone says nothing about the edit"
    assert np.mean(held_out @ ranked > 0) > 0.99
    assert ranked[1] > 0.5 * ranked[0] > 0, "both the source and the edit are read"
    accuracy = np.mean(((features @ ranked + bias) > 0) == labels)
    assert accuracy > 0.9, "the ranking term does not undo the class fit"


def test_no_twins_or_no_weight_leaves_the_plain_fit():
    rng = np.random.default_rng(1)
    features, labels = confounded(rng, 50)
    plain_weight, plain_bias = fit_logistic(features, labels, l2=1e-2)
    for differences, weight in ((edits(rng, 10), 0.0), (edits(rng, 0), 1.0)):
        fitted, bias = fit_logistic(features, labels, l2=1e-2, twin_differences=differences, twin_weight=weight)
        np.testing.assert_allclose(fitted, plain_weight, atol=1e-6)
        assert bias == plain_bias
