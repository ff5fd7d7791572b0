"""Detection metrics on scores where higher means more likely fake (numpy only)."""

from __future__ import annotations

import numpy as np


def _as_arrays(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels, dtype=np.int64).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if labels.shape != scores.shape:
        raise ValueError("labels and scores differ in length")
    return labels, scores


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); NaN without both classes."""
    labels, scores = _as_arrays(labels, scores)
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if len(positives) == 0 or len(negatives) == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    for start, count in zip(first, counts, strict=True):
        ranks[order[start : start + count]] = start + (count + 1) / 2.0
    rank_sum = ranks[labels == 1].sum()
    return float((rank_sum - len(positives) * (len(positives) + 1) / 2.0) / (len(positives) * len(negatives)))


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False-positive rates, true-positive rates and thresholds, from the strictest threshold down."""
    labels, scores = _as_arrays(labels, scores)
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_labels = scores[order], labels[order]
    distinct = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(sorted_scores) - 1]
    true_positives = np.cumsum(sorted_labels)[distinct]
    false_positives = (distinct + 1) - true_positives
    positives, negatives = max(labels.sum(), 1), max(len(labels) - labels.sum(), 1)
    fpr = np.r_[0.0, false_positives / negatives]
    tpr = np.r_[0.0, true_positives / positives]
    thresholds = np.r_[np.inf, sorted_scores[distinct]]
    return fpr, tpr, thresholds


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the precision-recall curve as a step sum (sklearn's definition)."""
    labels, scores = _as_arrays(labels, scores)
    if labels.sum() == 0:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_labels = scores[order], labels[order]
    distinct = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(sorted_scores) - 1]
    true_positives = np.cumsum(sorted_labels)[distinct]
    precision = true_positives / (distinct + 1)
    recall = true_positives / labels.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def equal_error_rate(labels: np.ndarray, scores: np.ndarray) -> float:
    """Rate where false-positive and false-negative rates meet (linear interpolation on the ROC)."""
    labels, _ = _as_arrays(labels, scores)
    if labels.sum() == 0 or labels.sum() == len(labels):
        return float("nan")
    fpr, tpr, _ = roc_curve(labels, scores)
    fnr = 1.0 - tpr
    crossing = int(np.flatnonzero(fnr <= fpr)[0])
    if crossing == 0:
        return float(fpr[0])
    # Interpolate between the last point with fnr > fpr and the first with fnr <= fpr.
    d0, d1 = fnr[crossing - 1] - fpr[crossing - 1], fnr[crossing] - fpr[crossing]
    weight = d0 / (d0 - d1) if d0 != d1 else 0.0
    return float(fpr[crossing - 1] + weight * (fpr[crossing] - fpr[crossing - 1]))


def rates_at_threshold(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy, false-positive rate (reals called fake) and true-positive rate at ``threshold``."""
    labels, probabilities = _as_arrays(labels, probabilities)
    predicted = probabilities >= threshold
    reals, fakes = labels == 0, labels == 1
    return {
        "accuracy": float(np.mean(predicted == fakes)),
        "fpr": float(predicted[reals].mean()) if reals.any() else float("nan"),
        "tpr": float(predicted[fakes].mean()) if fakes.any() else float("nan"),
    }


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> float:
    """Mean |fraction fake - mean p_fake| over equal-width probability bins, weighted by bin size."""
    labels, probabilities = _as_arrays(labels, probabilities)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(labels[members].mean() - probabilities[members].mean())
    return float(error)


def summary(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict[str, float]:
    """All figures the evaluation reports for one set of scores."""
    labels, probabilities = _as_arrays(labels, probabilities)
    return {
        "count": len(labels),
        "fakes": int(labels.sum()),
        "auc": roc_auc(labels, probabilities),
        "ap": average_precision(labels, probabilities),
        "eer": equal_error_rate(labels, probabilities),
        "ece": expected_calibration_error(labels, probabilities),
        **rates_at_threshold(labels, probabilities, threshold),
    }


def paired_auc_difference(
    labels: np.ndarray, scores_a: np.ndarray, scores_b: np.ndarray, samples: int = 2000, seed: int = 0
) -> dict[str, float]:
    """AUC of ``scores_a`` minus AUC of ``scores_b`` on the same clips, with its 95% interval over paired
    resamples (the fakes and the reals each drawn with replacement, the same draw for both scorers) and
    the share of resamples in which ``a`` ranks better. Pairing removes what the clips share, so two heads
    scored on one small test set can be told apart more finely than by their separate intervals."""
    labels, scores_a = _as_arrays(labels, scores_a)
    _, scores_b = _as_arrays(labels, scores_b)
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    if len(positives) == 0 or len(negatives) == 0:
        raise ValueError("both classes are needed")
    rng = np.random.default_rng(seed)
    differences = np.empty(samples)
    for i in range(samples):
        drawn = np.r_[rng.choice(positives, len(positives)), rng.choice(negatives, len(negatives))]
        differences[i] = roc_auc(labels[drawn], scores_a[drawn]) - roc_auc(labels[drawn], scores_b[drawn])
    low, high = np.percentile(differences, [2.5, 97.5])
    return {
        "difference": roc_auc(labels, scores_a) - roc_auc(labels, scores_b),
        "ci95_low": float(low),
        "ci95_high": float(high),
        "share_a_better": float(np.mean(differences > 0)),
    }
