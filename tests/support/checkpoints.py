"""Small checkpoints for tests: the untrained 96 px detector, marked trained and given a hand-made evaluation.

The evaluation is a fixture in the layout ``training.evaluate.store_evaluation`` writes into
``spec.metrics["evaluation"]``; its figures are invented, not results.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

HAND_MADE_EVALUATION = {
    "split": "test",
    "families": [
        {
            "family": "face swap",
            "kind": "provided",
            "video_auc": 0.91,
            "video_auc_ci95": [0.8, 0.98],
            "clips": 13,
            "real_clips": 28,
            "real_fpr": 0.04,
            "ece": 0.3,
        },
        {
            "family": "talking head",
            "kind": "provided",
            "video_auc": 0.35,
            "video_auc_ci95": [0.2, 0.5],
            "clips": 21,
            "real_clips": 28,
            "real_fpr": 0.04,
            "ece": 0.4,
        },
    ],
}


def save_trained_small_checkpoint(path: Path, evaluation: dict | None = HAND_MADE_EVALUATION) -> Path:
    """Writes a 96 px, 8-frame detector whose spec says trained (with ``evaluation`` when given)."""
    from models.checkpoint import save_checkpoint
    from models.registry import untrained_model

    loaded = untrained_model(window=8)
    metrics = {"evaluation": evaluation} if evaluation is not None else {}
    spec = replace(loaded.spec, input_size=96, trained=True, metrics=metrics, training_data="none (a test fixture)")
    save_checkpoint(path, loaded.model, spec, half_precision=True)
    return path
