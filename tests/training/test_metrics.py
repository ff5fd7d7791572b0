"""Metrics and calibration against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.calibration import choose_threshold, fit_temperature, sigmoid
from training.evaluate import bootstrap_auc
from training.metrics import (
    average_precision,
    equal_error_rate,
    expected_calibration_error,
    paired_auc_difference,
    rates_at_threshold,
    roc_auc,
    roc_curve,
)


def test_auc_known_values() -> None:
    labels = np.array([0, 0, 1, 1])
    assert roc_auc(labels, np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert roc_auc(labels, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert roc_auc(labels, np.array([0.4, 0.3, 0.2, 0.1])) == 0.0
    assert roc_auc(labels, np.full(4, 0.5)) == 0.5  # ties count half
    assert roc_auc(np.array([0, 1, 1]), np.array([0.5, 0.5, 0.9])) == pytest.approx(0.75)
    assert math.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_average_precision_and_eer() -> None:
    labels = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    # Ranked: 0.8 (fake), 0.4 (real), 0.35 (fake), 0.1 (real): precision 1 at recall 0.5, 2/3 at recall 1.
    assert average_precision(labels, scores) == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)
    assert equal_error_rate(labels, np.array([0.1, 0.2, 0.3, 0.4])) == 0.0
    assert equal_error_rate(labels, scores) == pytest.approx(0.5)


def test_roc_curve_end_points() -> None:
    fpr, tpr, thresholds = roc_curve(np.array([0, 1, 0, 1]), np.array([0.2, 0.9, 0.6, 0.4]))
    assert fpr[0] == 0.0 and tpr[0] == 0.0 and fpr[-1] == 1.0 and tpr[-1] == 1.0
    assert np.all(np.diff(thresholds) < 0)


def test_rates_and_ece() -> None:
    labels = np.array([0, 0, 0, 1, 1])
    probabilities = np.array([0.1, 0.6, 0.2, 0.7, 0.3])
    rates = rates_at_threshold(labels, probabilities, 0.5)
    assert rates == {"accuracy": pytest.approx(0.6), "fpr": pytest.approx(1 / 3), "tpr": pytest.approx(0.5)}
    # Within each bin the fraction of fakes equals the mean probability: perfectly calibrated.
    labels = np.array([0, 0, 0, 1] * 25 + [1, 1, 1, 0] * 25)
    probabilities = np.array([0.25] * 100 + [0.75] * 100)
    assert expected_calibration_error(labels, probabilities) == pytest.approx(0.0, abs=1e-9)
    assert expected_calibration_error(np.array([0, 1]), np.array([1.0, 0.0])) == pytest.approx(1.0)


def test_temperature_recovered_from_simulated_scores() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, size=20000)
    labels = (rng.random(20000) < sigmoid(true_logits)).astype(float)
    # An over-confident model: logits three times too large.
    assert fit_temperature(true_logits * 3.0, labels) == pytest.approx(3.0, rel=0.08)


def test_threshold_is_the_lowest_that_keeps_real_false_positives_under_the_bound() -> None:
    reals = np.linspace(0.0, 0.95, 100)
    for max_fpr, flagged in ((0.1, 10), (0.2, 20), (0.05, 5)):
        threshold = choose_threshold(reals, max_fpr=max_fpr)
        # Exactly the allowed number of reals reach it; the next score down would let one more through.
        assert np.sum(reals >= threshold) == flagged, max_fpr
        next_lower = np.sort(reals)[::-1][flagged]
        assert next_lower < threshold == np.nextafter(next_lower, 1.0)
    assert choose_threshold(reals, max_fpr=0.2) < choose_threshold(reals, max_fpr=0.1)
    assert choose_threshold(np.full(50, 0.2), max_fpr=0.1) == 0.5  # the floor when reals score low
    assert choose_threshold(np.full(50, 0.999), max_fpr=0.1) == 0.99  # and the cap when they all score high


def test_paired_auc_difference_of_a_scorer_with_itself_is_exactly_zero() -> None:
    rng = np.random.default_rng(1)
    labels = np.r_[np.zeros(40), np.ones(20)]
    scores = rng.normal(size=60) + labels
    result = paired_auc_difference(labels, scores, scores, samples=200)
    assert result["difference"] == result["ci95_low"] == result["ci95_high"] == 0.0
    assert result["share_a_better"] == 0.0


def test_paired_auc_difference_tells_a_gain_that_separate_intervals_cannot() -> None:
    # b is a plus noise of its own. On 30 fakes and 60 reals each AUC's own interval is wide enough to
    # overlap the other's, yet pairing the resamples shows that a ranks better.
    rng = np.random.default_rng(5)
    labels = np.r_[np.zeros(60), np.ones(30)]
    a = rng.normal(size=90) + 1.5 * labels
    b = a + rng.normal(size=90)
    (a_low, _), (_, b_high) = bootstrap_auc(labels, a), bootstrap_auc(labels, b)
    assert a_low < b_high
    result = paired_auc_difference(labels, a, b, samples=500)
    assert result["difference"] == pytest.approx(roc_auc(labels, a) - roc_auc(labels, b))
    assert result["ci95_low"] > 0
    assert result["share_a_better"] > 0.97
    swapped = paired_auc_difference(labels, b, a, samples=500)
    assert swapped["difference"] == pytest.approx(-result["difference"])
    assert swapped["ci95_high"] < 0


def test_paired_auc_difference_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both classes"):
        paired_auc_difference(np.ones(5), np.arange(5.0), np.arange(5.0))
