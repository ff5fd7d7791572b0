"""Training on a few drawn clips: pairs are aligned, stage-1 steps lower the loss, the command writes a
loadable calibrated checkpoint, and the evaluation reports per family on it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from models.checkpoint import ModelSpec
from models.native import ARCHITECTURE
from models.registry import build_model, load_model
from tests.training.training_data import CANVAS, INPUT, write_drawn_cache
from training import train as train_module
from training.calibration import choose_threshold, sigmoid
from training.cnn_trainable import TRAINABLES, build_trainable
from training.data.datasets import ModelInputs, PairDataset, load_bank
from training.train import WindowInfo, _collate, calibrate, clip_scores, stage1_step, train
from training.train_config import TrainConfig

TINY = TrainConfig(
    input_size=INPUT,
    window=4,
    hidden_size=8,
    pairs_per_batch=4,
    stage1_max_steps=4,
    eval_every=2,
    stage2_pairs=6,
    stage2_epochs=2,
    val_windows_per_clip=1,
    workers=0,
)


@pytest.fixture(scope="module")
def drawn_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_drawn_cache(tmp_path_factory.mktemp("cache"))


def tiny_spec(architecture: str = ARCHITECTURE) -> ModelSpec:
    canvas = CANVAS if TRAINABLES[architecture].reads_canvas else 0
    return ModelSpec(architecture=architecture, input_size=INPUT, window=4, hidden_size=8, canvas_size=canvas)


def pairs(cache: Path, length: int = 1, **options) -> PairDataset:
    bank = load_bank(cache)
    reals = [c for c, clip in bank.items() if not clip.entry.is_fake]
    fakes = [c for c, clip in bank.items() if clip.entry.is_fake]
    spec = tiny_spec()
    return PairDataset(bank, reals, fakes, length, ModelInputs(INPUT, spec.mean, spec.std), 16, **options)


def test_pair_members_share_their_degradation_and_differ_only_in_the_fake(drawn_cache):
    dataset = pairs(drawn_cache, length=3)
    for index in range(6):
        item = dataset[index]
        assert item["crops"].shape == (2, 3, 3, INPUT, INPUT) and item["canvases"].shape == (2, 3, 3, CANVAS, CANVAS)
        assert item["labels"].tolist() == [0.0, 1.0]
        if item["kind"] != "provided":
            # Made from that very window: where the synthesis mask is empty the two members are (nearly) equal,
            # the codec's blocks aside: so the same blur, noise and re-encode went over both.
            outside = (item["masks"][1] == 0).unsqueeze(1).expand_as(item["canvases"][0])
            difference = (item["canvases"][0] - item["canvases"][1]).abs()[outside]
            assert difference.numel() == 0 or float(difference.mean()) < 0.02, item["kind"]
            assert float(item["mask_weights"][1]) == 1.0
        else:
            assert float(item["mask_weights"][1]) == 0.0  # a provided fake has no known mask


@pytest.mark.parametrize("architecture", sorted(TRAINABLES))
def test_stage1_steps_lower_the_loss(drawn_cache, architecture):
    torch.manual_seed(0)
    dataset = pairs(drawn_cache, augment=False)
    batch = _collate([dataset[i] for i in range(8)])
    config = replace(TINY, architecture=architecture)
    trainable = build_trainable(build_model(tiny_spec(architecture), pretrained_backbone=True), config)
    optimizer = torch.optim.AdamW(trainable.parameters(), lr=1e-3)
    steps = [stage1_step(trainable, optimizer, batch, torch.device("cpu")) for _ in range(8)]
    losses = [step["classification"] for step in steps]
    assert losses[-1] < 0.7 * losses[0], losses
    expected = {"classification", "overall", "mask"} if trainable.reads_canvas else {"classification", "overall"}
    assert set(steps[0]) == expected


def lowest_threshold(window_reals: np.ndarray, clip_reals: np.ndarray, config: TrainConfig) -> float:
    """By brute force: the lowest threshold >= 0.5 under both false-positive bounds of ``config``."""
    candidates = sorted({0.5, *(float(np.nextafter(p, 1.0)) for p in (*window_reals, *clip_reals) if p >= 0.5)})
    return next(
        t
        for t in candidates
        if np.mean(window_reals >= t) <= config.max_window_fpr and np.mean(clip_reals >= t) <= config.max_clip_fpr
    )


def test_calibration_fits_the_temperature_and_the_lowest_threshold_of_both_bounds():
    rng = np.random.default_rng(3)
    windows, true_logits = [], []
    for clip in range(80):
        label = int(clip >= 40)
        # Three real clips score high in every window: the real-clip bound, not the window one, sets the threshold.
        centre, spread = (1.0, 1.0) if label else ((1.0, 0.3) if clip < 3 else (-1.0, 1.0))
        for _ in range(5):
            windows.append(WindowInfo(f"clip{clip}", label, "real" if label == 0 else "provided"))
            true_logits.append(rng.normal(centre, spread))
    labels = np.array([w.label for w in windows], dtype=float)
    logits = 3.0 * np.array(true_logits)  # an over-confident model
    config = TrainConfig()
    temperature, threshold, figures = calibrate(windows, logits, config)

    def nll(t: float) -> float:
        p = np.clip(sigmoid(logits / t), 1e-12, 1 - 1e-12)
        return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))

    assert temperature > 1.5 and nll(temperature) <= min(nll(temperature * 0.9), nll(temperature * 1.1), nll(1.0))
    probabilities = sigmoid(logits / temperature)
    _, clip_labels, clip_probabilities = clip_scores(windows, probabilities)
    window_reals, clip_reals = probabilities[labels == 0], clip_probabilities[clip_labels == 0]
    assert threshold == lowest_threshold(window_reals, clip_reals, config) < 0.99
    assert threshold > choose_threshold(window_reals, config.max_window_fpr)  # the clip bound was needed
    assert figures == {
        "val_real_window_fpr": float(np.mean(window_reals >= threshold)),
        "val_real_clip_fpr": float(np.mean(clip_reals >= threshold)),
        "val_fake_clip_tpr": float(np.mean(clip_probabilities[clip_labels == 1] >= threshold)),
    }
    assert figures["val_real_window_fpr"] <= config.max_window_fpr and figures["val_real_clip_fpr"] <= 0.05


@pytest.mark.slow
def test_train_writes_a_calibrated_checkpoint_that_evaluates_per_family(drawn_cache, tmp_path, monkeypatch):
    from training.evaluate import evaluate, store_evaluation

    out = tmp_path / "tiny.pt"
    calibrations = []

    def spied_calibrate(windows, logits, config):
        calibrations.append((windows, logits, calibrate(windows, logits, config)))
        return calibrations[-1][2]

    monkeypatch.setattr(train_module, "calibrate", spied_calibrate)
    result = train(drawn_cache, out, TINY, autoencoders_dir=None)
    loaded = load_model(out)
    spec = loaded.spec
    assert spec.trained and spec.architecture == ARCHITECTURE and spec.canvas_size == CANVAS
    # The checkpoint carries the calibration of the validation windows of the chosen head, as fitted.
    ((windows, logits, (temperature, threshold, figures)),) = calibrations
    assert len(windows) == len(logits) > 0 and {w.label for w in windows} == {0, 1}
    assert (
        (spec.temperature, spec.threshold) == (temperature, threshold) == (result["temperature"], result["threshold"])
    )
    assert {key: spec.metrics[key] for key in figures} == figures
    probabilities = sigmoid(logits / spec.temperature)
    labels = np.array([w.label for w in windows])
    _, clip_labels, clip_probabilities = clip_scores(windows, probabilities)
    assert spec.threshold == lowest_threshold(probabilities[labels == 0], clip_probabilities[clip_labels == 0], TINY)
    stages = {entry["stage"] for entry in result["curve"]}
    assert stages == {1, 2}
    assert json.loads(out.with_suffix(".train.json").read_text())["sha256"] == result["sha256"]
    report = evaluate(out, drawn_cache, ["test"], tmp_path / "eval.json", tmp_path / "roc.png", ("self_blend",))
    assert (tmp_path / "roc.png").stat().st_size > 0
    subsets = report["subsets"]
    assert "test: synthetic: self_blend" in subsets
    figures = subsets["test: synthetic: self_blend"]
    low, high = figures["video"]["auc_ci95"]
    assert 0.0 <= low <= figures["video"]["auc"] <= high <= 1.0
    assert {row["family"] for row in report["evaluated"]} >= {"self_blend"}
    store_evaluation(out, report)
    assert load_model(out).spec.metrics["evaluation"]["families"] == report["evaluated"]
    assert np.isfinite([row["video_auc"] for row in report["evaluated"]]).all()


@pytest.mark.slow
def test_train_makes_a_cnn_lstm_that_reads_crops_only(drawn_cache, tmp_path):
    out = tmp_path / "cnn_lstm.pt"
    result = train(drawn_cache, out, replace(TINY, architecture="cnn_lstm"), autoencoders_dir=None)
    loaded = load_model(out)
    assert loaded.spec.architecture == "cnn_lstm" and loaded.spec.canvas_size == 0 and loaded.spec.trained
    assert {entry["stage"] for entry in result["curve"]} == {1, 2}
    assert "mask_loss" not in result["curve"][0] and np.isfinite(result["curve"][0]["classification_loss"])
    crops = torch.rand(3, 3, INPUT, INPUT)
    logits = loaded.model.score_features(loaded.model.embed(crops)[None])
    assert logits.shape == (1,) and torch.isfinite(logits).all()
