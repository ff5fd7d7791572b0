"""Temperature scaling and threshold choice on validation scores."""

from __future__ import annotations

import numpy as np


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    scaled = logits / temperature
    # log(1 + exp(-|x|)) form keeps large logits finite.
    log_p = -np.logaddexp(0.0, -scaled)
    log_not_p = -np.logaddexp(0.0, scaled)
    return float(-np.mean(labels * log_p + (1 - labels) * log_not_p))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature T > 0 minimising the negative log-likelihood of sigmoid(logit / T).

    A coarse log-spaced grid then a fine one around the best point; one parameter needs no optimiser.
    """
    logits = np.asarray(logits, dtype=np.float64).ravel()
    labels = np.asarray(labels, dtype=np.float64).ravel()
    grid = np.exp(np.linspace(np.log(0.05), np.log(50.0), 200))
    best = min(grid, key=lambda t: _nll(logits, labels, t))
    fine = np.exp(np.linspace(np.log(best) - 0.05, np.log(best) + 0.05, 101))
    return float(min(fine, key=lambda t: _nll(logits, labels, t)))


def sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(values, dtype=np.float64)))


def choose_threshold(real_probabilities: np.ndarray, max_fpr: float = 0.1, floor: float = 0.5) -> float:
    """Lowest threshold >= ``floor`` at which at most ``max_fpr`` of the real scores reach it.

    The floor keeps p_fake >= 0.5 meaning "more likely fake than not"; the FPR bound raises the
    threshold when calibration alone would flag too many real faces.
    """
    reals = np.sort(np.asarray(real_probabilities, dtype=np.float64).ravel())[::-1]
    allowed = int(np.floor(max_fpr * len(reals)))
    threshold = floor
    if allowed < len(reals) and reals[allowed] >= floor:
        threshold = float(np.nextafter(reals[allowed], 1.0))
    return float(min(threshold, 0.99))
