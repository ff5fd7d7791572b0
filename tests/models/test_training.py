"""Training on a few drawn clips: pairs are aligned, stage-1 steps lower the loss, the command writes a
loadable calibrated checkpoint, and the evaluation reports per family on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from models.checkpoint import ModelSpec
from models.data.datasets import ModelInputs, PairDataset, load_bank
from models.native import ARCHITECTURE
from models.registry import build_model, load_model
from models.train import FrameClassifier, TrainConfig, _collate, stage1_step, train
from tests.models.training_data import CANVAS, INPUT, write_drawn_cache

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


def tiny_spec() -> ModelSpec:
    return ModelSpec(architecture=ARCHITECTURE, input_size=INPUT, window=4, hidden_size=8, canvas_size=CANVAS)


def pairs(cache: Path, length: int = 1, **options) -> PairDataset:
    bank = load_bank(cache)
    reals = [c for c, clip in bank.items() if clip.entry["label"] == "real"]
    fakes = [c for c, clip in bank.items() if clip.entry["label"] == "fake"]
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


def test_stage1_steps_lower_the_loss(drawn_cache):
    torch.manual_seed(0)
    dataset = pairs(drawn_cache, augment=False)
    batch = _collate([dataset[i] for i in range(8)])
    model = build_model(tiny_spec(), pretrained_backbone=True)
    classifier = FrameClassifier(model.feature_dim)
    optimizer = torch.optim.AdamW([*model.parameters(), *classifier.parameters()], lr=1e-3)
    losses = [stage1_step(model, classifier, optimizer, batch, TINY, torch.device("cpu"))[0] for _ in range(8)]
    assert losses[-1] < 0.7 * losses[0], losses


@pytest.mark.slow
def test_train_writes_a_calibrated_checkpoint_that_evaluates_per_family(drawn_cache, tmp_path):
    from models.evaluate import evaluate, store_evaluation

    out = tmp_path / "tiny.pt"
    result = train(drawn_cache, out, TINY, autoencoders_dir=None)
    loaded = load_model(out)
    spec = loaded.spec
    assert spec.trained and spec.architecture == ARCHITECTURE and spec.canvas_size == CANVAS
    assert 0.5 <= spec.threshold < 1.0 and spec.temperature > 0
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
