"""Training on a few drawn crops: the loss falls, the CLI path writes a loadable calibrated checkpoint,
and the evaluation command reports on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from models.checkpoint import ModelSpec
from models.data.datasets import CachedClip, SynthesisWindowDataset, evaluation_windows
from models.data.prepare import PrepareConfig, save_clip, write_index
from models.evaluate import ClipScores, evaluate, self_blend_pairs, subset_report
from models.registry import build_model, load_model
from models.train import TrainConfig, backbone_step, moving_average, train, train_backbone
from tests.support.synthetic_faces import face_crop

CROP = 64


def drawn_clip(seed: int, frames: int = 8) -> dict[str, np.ndarray]:
    crops, landmarks = zip(
        *(face_crop(CROP, seed=seed * 100 + i, shift=(i % 3, -(i % 2))) for i in range(frames)), strict=True
    )
    segment = np.repeat([0, 1], frames // 2).astype(np.int32)
    return {
        "crops": np.stack(crops),
        "landmarks": np.stack(landmarks),
        "frame_index": np.arange(frames, dtype=np.int32),
        "segment": segment,
    }


def drawn_real_bank(clips: int) -> dict[str, CachedClip]:
    """Real clips of drawn faces, one identity each, held in memory like a loaded cache."""
    bank = {}
    for seed in range(clips):
        arrays = drawn_clip(seed)
        entry = {"clip_id": f"c{seed}", "identity": f"p{seed}", "label": "real", "method": "none"}
        bank[entry["clip_id"]] = CachedClip(entry, arrays["crops"], arrays["landmarks"], arrays["segment"])
    return bank


def single_crop_set(
    bank: dict[str, CachedClip], epoch_size: int, **options: bool
) -> tuple[ModelSpec, SynthesisWindowDataset]:
    """A tiny model spec and a stage-1 (one crop per item) training set over ``bank``'s real clips."""
    spec = ModelSpec(input_size=48, window=4, hidden_size=8)
    dataset = SynthesisWindowDataset(
        bank, sorted(bank), [], 1, spec.input_size, spec.mean, spec.std, epoch_size=epoch_size, **options
    )
    return spec, dataset


def test_backbone_steps_lower_the_loss() -> None:
    torch.manual_seed(0)
    bank = drawn_real_bank(3)
    spec, dataset = single_crop_set(bank, epoch_size=12, augment=False)
    crops, labels, _ = zip(*(dataset[i] for i in range(12)), strict=True)
    crops, labels = torch.stack(crops), torch.stack(labels)
    assert crops.shape == (12, 3, 48, 48) and 0 < labels.sum() < 12
    model = build_model(spec, pretrained_backbone=True)
    head = nn.Linear(model.backbone.feature_dim, 1)
    optimizer = torch.optim.AdamW([*model.backbone.parameters(), *head.parameters()], lr=1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    losses = [backbone_step(model, head, optimizer, scaler, crops, labels, amp=False) for _ in range(8)]
    assert losses[-1] < 0.7 * losses[0], losses


def test_paired_batches_train_the_backbone() -> None:
    """Paired items (a real crop and a fake of it) are flattened into one batch of both labels."""
    torch.manual_seed(0)
    bank = drawn_real_bank(3)
    spec, dataset = single_crop_set(bank, epoch_size=8, paired=True)
    config = TrainConfig(batch_size=4, stage1_max_steps=3, eval_every=3, workers=0)
    val = evaluation_windows(bank, sorted(bank), 1, 2, synthesize=True)
    model = build_model(spec, pretrained_backbone=True)
    log: list[dict] = []
    head = train_backbone(model, spec, config, dataset, val, torch.device("cpu"), False, log)
    assert [entry["step"] for entry in log] == [3]  # batches of 2 pairs (4 crops); stops at the step limit
    assert 0.0 <= log[0]["val_video_auc"] <= 1.0 and np.isfinite(log[0]["train_loss"])
    assert head.in_features == model.backbone.feature_dim


def test_stage_one_moving_average() -> None:
    layer = nn.BatchNorm1d(2)
    average = moving_average(layer, decay=0.5)
    with torch.no_grad():
        layer.weight.fill_(2.0)
        layer.running_mean.fill_(4.0)
    average.update_parameters(layer)  # the first update copies
    with torch.no_grad():
        layer.weight.fill_(4.0)
        layer.running_mean.fill_(0.0)
    average.update_parameters(layer)
    assert average.module.weight.tolist() == [3.0, 3.0] and average.module.running_mean.tolist() == [2.0, 2.0]

    torch.manual_seed(0)
    bank = drawn_real_bank(3)
    spec, dataset = single_crop_set(bank, epoch_size=8)
    config = TrainConfig(batch_size=4, stage1_max_steps=2, eval_every=2, workers=0, ema_decay=0.5)
    model = build_model(spec, pretrained_backbone=True)
    backbone = model.backbone
    log: list[dict] = []
    val = evaluation_windows(bank, sorted(bank), 1, 2, synthesize=True)
    train_backbone(model, spec, config, dataset, val, torch.device("cpu"), False, log)
    assert model.backbone is backbone  # the average's weights were loaded into the model's own backbone
    assert [entry["step"] for entry in log] == [2] and 0.0 <= log[0]["val_video_auc"] <= 1.0


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten identities: four with DeepFaceLive-labelled fakes, six real only; two segments of 4 crops each."""
    cache = tmp_path_factory.mktemp("cache")
    entries = []
    for person in range(10):
        kinds = [("real", "none")] + ([("fake", "face swap: DeepFaceLive test")] if person < 4 else [])
        for label, method in kinds:
            clip_id = f"p{person}_{label}"
            arrays = drawn_clip(person * 2 + (label == "fake"))
            save_clip(cache, clip_id, arrays)
            entries.append(
                {
                    "path": f"{clip_id}.mp4",
                    "label": label,
                    "kind": "video",
                    "method": method,
                    "source": "drawn",
                    "license": "test",
                    "group": f"g{person}",
                    "identity": f"p{person}",
                    "clip_id": clip_id,
                    "crops": 8,
                    "segments": 2,
                }
            )
    write_index(cache, entries, PrepareConfig(crop_size=CROP, segment_length=4, segments_per_video=2))
    return cache


@pytest.fixture(scope="module")
def trained_checkpoint(tiny_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "tiny.pt"
    config = TrainConfig(
        input_size=48,
        window=4,
        hidden_size=8,
        batch_size=4,
        stage1_max_steps=2,
        eval_every=2,
        stage2_windows=8,
        stage2_epochs=2,
        val_windows_per_clip=1,
        workers=0,
    )
    torch.set_num_threads(2)
    train(tiny_cache, out, config)
    return out


@pytest.mark.slow
def test_train_writes_calibrated_checkpoint(trained_checkpoint: Path) -> None:
    loaded = load_model(trained_checkpoint)
    spec = loaded.spec
    assert spec.trained and spec.input_size == 48 and spec.window == 4
    assert 0.0 < spec.threshold < 1.0 and spec.temperature > 0
    assert "val_video_auc" in spec.metrics and spec.metrics["split_seed"] == 0
    log = json.loads(trained_checkpoint.with_suffix(".train.json").read_text())
    assert {entry["stage"] for entry in log["curve"]} == {1, 2}
    logits = loaded.model(torch.zeros(2, 4, 3, 48, 48))
    assert logits.shape == (2,) and torch.isfinite(logits).all()


@pytest.mark.slow
def test_evaluate_writes_report_and_plot(trained_checkpoint: Path, tiny_cache: Path, tmp_path: Path) -> None:
    report = evaluate(trained_checkpoint, tiny_cache, ["test", "val"], tmp_path / "eval.json", tmp_path / "roc.png")
    assert (tmp_path / "roc.png").stat().st_size > 1000
    assert json.loads((tmp_path / "eval.json").read_text())["threshold"] == report["threshold"]
    subsets = report["subsets"]
    assert "test_seen_methods" in subsets and "test_self_blend" in subsets
    assert report["self_blend_pairs"]["test_self_blend"]["pairs"] == subsets["test_self_blend"]["fake_clips"]
    for figures in subsets.values():
        assert 0.0 <= figures["video"]["auc"] <= 1.0
        assert figures["frame"]["count"] >= figures["window"]["count"] >= figures["video"]["count"]


def test_subset_report_known_aucs() -> None:
    def clip(name: str, label: int, windows: list[float]) -> ClipScores:
        return ClipScores(name, label, "m", "s", np.array(windows), np.array(windows))

    scores = [clip("r1", 0, [0.1, 0.3]), clip("r2", 0, [0.6]), clip("f1", 1, [0.5, 0.9]), clip("f2", 1, [0.4])]
    report = subset_report(scores, threshold=0.5)
    # Video scores: reals 0.2, 0.6; fakes 0.7, 0.4 -> 3 of 4 pairs ordered.
    assert report["video"]["auc"] == pytest.approx(0.75)
    assert report["window"]["auc"] == pytest.approx(7 / 9)
    assert report["video"]["fpr"] == pytest.approx(0.5) and report["video"]["tpr"] == pytest.approx(0.5)


def test_self_blend_pairs_compare_each_clip_with_its_own_blend() -> None:
    def clip(name: str, label: int, score: float) -> ClipScores:
        return ClipScores(name, label, "m", "s", np.array([score]), np.array([score]))

    # Every blend is above its own clip, but one real clip scores above another clip's blend.
    scores = [clip("a", 0, 0.1), clip("a#self_blend", 1, 0.3), clip("b", 0, 0.6), clip("b#self_blend", 1, 0.65)]
    assert subset_report(scores, 0.5)["video"]["auc"] == pytest.approx(0.75)
    pairs = self_blend_pairs(scores)
    assert pairs["pairs"] == 2 and pairs["blend_above_own_real"] == 1.0
    assert pairs["mean_gain"] == pytest.approx(0.125) and pairs["real_score_std"] == pytest.approx(0.25)
    assert self_blend_pairs([clip("a", 0, 0.1)]) == {}


def test_warm_started_lstm_head_scores_like_the_frame_classifier() -> None:
    from models.temporal import LstmHead
    from models.train import warm_start_lstm_head, warm_start_scale

    torch.manual_seed(0)
    frame_head = nn.Linear(32, 1)
    head = LstmHead(32, hidden_size=8).eval()
    features = torch.randn(64, 6, 32)
    warm_start_lstm_head(head, frame_head, warm_start_scale(frame_head, features.numpy()))
    with torch.no_grad():
        frame_logits = frame_head(features).squeeze(-1)
        single = head(features[:, :1])
        windows = head(features)
    # One frame: a monotonic function of the frame logit, so the ranking is identical.
    assert torch.equal(torch.argsort(single), torch.argsort(frame_logits[:, 0]))
    # Windows: close to the mean frame logit (squashed), nearly the same ranking.
    mean_logits = frame_logits.mean(dim=1)
    correlation = torch.corrcoef(torch.stack([windows, mean_logits]))[0, 1]
    assert correlation > 0.98
