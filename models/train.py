"""Trains the default CNN-LSTM detector on the crop cache; writes a calibrated checkpoint.

Stage 1 fine-tunes the ImageNet backbone with a linear head on single crops: real crops, fakes
self-blended or swapped from them, and the provided fakes of seen methods. Stage 2 freezes the
backbone and trains the LSTM head on feature windows of consecutive crops. Validation (held-out
identities) picks the best step / epoch by video-level AUC and calibrates temperature and threshold.

    python -m models.train --cache ~/.cache/deepfake-analyzer/crops --out models/checkpoints/detector.pt
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader

from models.backbones import backbone_defaults
from models.calibration import choose_threshold, fit_temperature, sigmoid
from models.checkpoint import ModelSpec, save_checkpoint
from models.data.datasets import EvalWindow, MixConfig, SynthesisWindowDataset, evaluation_windows, load_bank, to_tensor
from models.data.prepare import DEFAULT_CACHE, read_index
from models.data.splits import SEEN_METHOD_PREFIXES, TRAIN, VAL, assign_splits, is_seen_method
from models.metrics import roc_auc
from models.registry import build_model
from models.temporal import LstmHead

TRAINING_DATA = (
    "Face crops (dlib HOG detector, margin 1.3) of ../shared/data, for research and evaluation use; sources and "
    "licenses per manifest.csv: iperov/DeepFaceLive demo clips (GPL-3.0 repo, third-party footage), "
    "KwaiVGI/LivePortrait (MIT code, third-party media), OpenTalker/video-retalking (Apache-2.0), "
    "AliaksandrSiarohin/first-order-model (MIT), tencent-ailab/V-Express real clip (no license stated), "
    "ai-forever/ghost (Apache-2.0), ageitgey/face_recognition (MIT), NVlabs/ffhq-dataset (CC BY-NC-SA 4.0), "
    "yoyo-nb/Thin-Plate-Spline-Motion-Model (MIT). Train split: real clips and images of train identities, "
    "fakes self-blended (Shiohara & Yamasaki, CVPR 2022) and landmark-swapped from them, and DeepFaceLive "
    "swaps of train identities. Never trained on SadTalker, VASA-1, roop, DeeperForensics or StyleGAN fakes."
)


@dataclass(frozen=True)
class TrainConfig:
    """Training recipe; every field is a CLI flag."""

    input_size: int = 128  # crop side fed to the backbone (CPU speed vs artefact detail)
    window: int = 16  # crops per temporal window (the live engine's ring size)
    hidden_size: int = 128  # LSTM width
    batch_size: int = 32
    stage1_minutes: float = 27.0  # wall-clock budget of backbone fine-tuning
    stage1_max_steps: int = 4000
    backbone_lr: float = 3e-4
    head_lr: float = 1e-3
    weight_decay: float = 1e-4
    eval_every: int = 150  # stage-1 steps between validations
    patience: int = 6  # validations without improvement before stopping
    stage2_windows: int = 1200  # augmented training windows featurised for the LSTM
    stage2_epochs: int = 15
    stage2_patience: int = 4
    head_lr_stage2: float = 3e-4
    val_windows_per_clip: int = 6
    max_fpr: float = 0.1  # threshold keeps validation real-window FPR at or under this
    split_seed: int = 0
    seed: int = 0
    workers: int = 1  # data loader processes (synthesis and augmentation)
    seen_methods: str = "|".join(SEEN_METHOD_PREFIXES)  # "|"-separated method prefixes trained on
    self_blend_share: float = MixConfig.self_blend  # of training samples; reals are always half
    swap_share: float = MixConfig.swap
    provided_share: float = MixConfig.provided_fake  # provided fakes of seen methods, method-balanced
    # Stage-1 batches of (real crop, fake made from that very crop) pairs, as in the self-blended
    # images paper, so nothing but the manipulation separates the two halves of a batch.
    paired: bool = False
    # >0: validate and keep an exponential moving average of the stage-1 weights (and BatchNorm
    # statistics) instead of the raw weights; averaging tends to land in flatter, more robust minima.
    ema_decay: float = 0.0

    @property
    def seen_method_prefixes(self) -> tuple[str, ...]:
        return tuple(prefix.strip() for prefix in self.seen_methods.split("|") if prefix.strip())

    @property
    def mix(self) -> MixConfig:
        return MixConfig(self_blend=self.self_blend_share, swap=self.swap_share, provided_fake=self.provided_share)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def device_and_amp() -> tuple[torch.device, bool]:
    """cuda with mixed precision when present, else cpu in fp32."""
    if torch.cuda.is_available():
        return torch.device("cuda"), True
    return torch.device("cpu"), False


@torch.no_grad()
def embed_windows(
    backbone: nn.Module, windows: Iterable[np.ndarray], spec: ModelSpec, device: torch.device, batch: int = 64
) -> np.ndarray:
    """``backbone`` features of each window's crops: (N, T, D), crops resized to the input size."""
    import cv2

    backbone.eval()
    outputs = []
    pending: list[np.ndarray] = []
    shapes = []

    def flush() -> None:
        if pending:
            crops = np.concatenate(pending)
            tensor = to_tensor(crops, spec.mean, spec.std).to(device)
            features = torch.cat([backbone(tensor[i : i + batch]) for i in range(0, len(tensor), batch)])
            outputs.append(features.float().cpu().numpy())
            pending.clear()

    for crops in windows:
        if crops.shape[1] != spec.input_size:
            crops = np.stack(
                [cv2.resize(c, (spec.input_size, spec.input_size), interpolation=cv2.INTER_AREA) for c in crops]
            )
        pending.append(crops)
        shapes.append(len(crops))
        if sum(len(p) for p in pending) >= 256:
            flush()
    flush()
    flat = np.concatenate(outputs) if outputs else np.zeros((0, 0), dtype=np.float32)
    split_points = np.cumsum(shapes)[:-1]
    return np.stack(np.split(flat, split_points)) if shapes else flat


def clip_auc(windows: list[EvalWindow], window_scores: np.ndarray) -> float:
    """Video-level AUC: each clip's score is the mean of its window scores."""
    per_clip: dict[str, list[float]] = defaultdict(list)
    label_of = {}
    for window, score in zip(windows, window_scores, strict=True):
        per_clip[window.clip_id].append(float(score))
        label_of[window.clip_id] = window.label
    clips = sorted(per_clip)
    return roc_auc(np.array([label_of[c] for c in clips]), np.array([np.mean(per_clip[c]) for c in clips]))


def backbone_step(
    model: nn.Module,
    head: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    crops: torch.Tensor,
    labels: torch.Tensor,
    amp: bool,
) -> float:
    """One stage-1 update on a batch of single crops (N, 3, H, W); returns the batch loss."""
    model.backbone.train()
    with torch.autocast(crops.device.type, enabled=amp):
        logits = head(model.embed(crops)).squeeze(1).float()
    loss = nn.functional.binary_cross_entropy_with_logits(logits, labels)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return float(loss.detach())


def train_backbone(
    model: nn.Module,
    spec: ModelSpec,
    config: TrainConfig,
    dataset: SynthesisWindowDataset,
    val_windows: list[EvalWindow],
    device: torch.device,
    amp: bool,
    log: list[dict],
) -> nn.Linear:
    """Stage 1: fine-tune backbone + linear head on single crops.

    Leaves the best-validating backbone in ``model`` and returns the linear head of that step.
    """
    head = nn.Linear(model.backbone.feature_dim, 1).to(device)
    optimizer = torch.optim.AdamW(
        [
            {"params": model.backbone.parameters(), "lr": config.backbone_lr},
            {"params": head.parameters(), "lr": config.head_lr},
        ],
        weight_decay=config.weight_decay,
    )
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    averages = (
        [moving_average(model.backbone, config.ema_decay), moving_average(head, config.ema_decay)]
        if config.ema_decay > 0
        else None
    )
    started = time.monotonic()
    budget_s = config.stage1_minutes * 60.0
    best_auc, best_state, best_head, stale, step, epoch = -1.0, None, None, 0, 0, 0
    running = []
    while step < config.stage1_max_steps and stale < config.patience:
        dataset.set_epoch(epoch)
        loader = DataLoader(
            dataset,
            batch_size=config.batch_size // 2 if dataset.paired else config.batch_size,
            shuffle=False,
            num_workers=config.workers,
            drop_last=True,
            persistent_workers=False,
        )
        for crops, labels, _ in loader:
            if labels.dim() == 2:  # paired items: (B, 2, ...) -> 2B crops
                crops, labels = crops.flatten(0, 1), labels.flatten()
            # Cosine decay over the planned steps or the time budget, whichever ends first.
            progress = max(step / config.stage1_max_steps, (time.monotonic() - started) / budget_s)
            for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
                group["lr"] = base * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
            running.append(backbone_step(model, head, optimizer, scaler, crops.to(device), labels.to(device), amp))
            if averages is not None:
                averages[0].update_parameters(model.backbone)
                averages[1].update_parameters(head)
            step += 1
            out_of_time = time.monotonic() - started >= budget_s or step >= config.stage1_max_steps
            if step % config.eval_every == 0 or out_of_time:
                # Validate the weights that would be kept: the moving average where there is one.
                candidate_backbone, candidate_head = (
                    (averages[0].module, averages[1].module) if averages else (model.backbone, head)
                )
                auc = validate_frames(candidate_backbone, candidate_head, spec, val_windows, device)
                entry = {
                    "stage": 1,
                    "step": step,
                    "epoch": epoch,
                    "train_loss": float(np.mean(running)),
                    "val_video_auc": auc,
                    "elapsed_s": round(time.monotonic() - started, 1),
                }
                log.append(entry)
                print(json.dumps(entry), flush=True)
                running = []
                if auc > best_auc:
                    best_auc, stale = auc, 0
                    best_state = {k: v.detach().clone() for k, v in candidate_backbone.state_dict().items()}
                    best_head = {k: v.detach().clone() for k, v in candidate_head.state_dict().items()}
                else:
                    stale += 1
            if out_of_time or stale >= config.patience:
                break
        epoch += 1
        if time.monotonic() - started >= budget_s:
            break
    if best_state is not None and best_head is not None:
        model.backbone.load_state_dict(best_state)
        head.load_state_dict(best_head)
    return head


def moving_average(module: nn.Module, decay: float) -> AveragedModel:
    """An exponential moving average of ``module``'s parameters and buffers (BatchNorm statistics)."""
    return AveragedModel(module, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def validate_frames(
    backbone: nn.Module, head: nn.Module, spec: ModelSpec, val_windows: list[EvalWindow], device: torch.device
) -> float:
    """Video-level AUC of ``backbone`` + linear ``head`` on single-crop validation windows."""
    features = embed_windows(backbone, (w.crops for w in val_windows), spec, device)
    with torch.no_grad():
        logits = head(torch.from_numpy(features[:, 0]).to(device)).squeeze(1).float().cpu().numpy()
    return clip_auc(val_windows, logits)


def warm_start_lstm_head(head: LstmHead, frame_head: nn.Linear, input_scale: float, gate_bias: float = 6.0) -> None:
    """Sets the LSTM head to start as the mean over time of the frame classifier's (squashed) logits.

    LSTM unit 0 gets the frame classifier as its cell input, an input and output gate held open and a
    forget gate held shut, so h_t = tanh(tanh(input_scale * frame_logit_t)); the output layer reads only
    that unit. The other units keep their random input weights but start unread, so training adds
    temporal evidence on top of a head that already scores like the fine-tuned frame classifier.
    ``input_scale`` should bring typical frame logits into tanh's near-linear range (see
    :func:`warm_start_scale`), or saturation turns distinct scores into ties.
    """
    if head.lstm.num_layers != 1:
        raise ValueError("warm start supports single-layer LSTM heads")
    hidden = head.lstm.hidden_size
    with torch.no_grad():
        for parameter in head.lstm.parameters():
            parameter.view(4, hidden, -1)[:, 0] = 0.0  # rows of unit 0 in each gate (input, forget, cell, output)
        head.lstm.weight_ih_l0.view(4, hidden, -1)[2, 0] = input_scale * frame_head.weight[0]
        head.lstm.bias_ih_l0.view(4, hidden)[:, 0] = torch.tensor(
            [gate_bias, -gate_bias, input_scale * float(frame_head.bias[0]), gate_bias]
        )
        head.classifier.weight.zero_()
        head.classifier.weight[0, 0] = 1.0 / input_scale
        head.classifier.bias.zero_()


def train_head(
    model: nn.Module,
    train_features: np.ndarray,
    train_labels: np.ndarray,
    val_features: np.ndarray,
    val_windows: list[EvalWindow],
    config: TrainConfig,
    device: torch.device,
    log: list[dict],
) -> np.ndarray:
    """Stage 2: LSTM head on frozen features; returns the best epoch's validation logits.

    Epoch -1 is the warm-started head before any update, so training can only be kept if it helps.
    """
    head = model.head
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.head_lr_stage2, weight_decay=1e-2)
    loss_fn = nn.BCEWithLogitsLoss()
    features = torch.from_numpy(train_features).to(device)
    labels = torch.from_numpy(train_labels.astype(np.float32)).to(device)
    val_tensor = torch.from_numpy(val_features).to(device)
    generator = torch.Generator().manual_seed(config.seed)
    best_auc, best_state, best_logits, stale = -1.0, None, None, 0
    for epoch in range(-1, config.stage2_epochs):
        losses = []
        head.train()
        if epoch >= 0:
            order = torch.randperm(len(features), generator=generator)
            for start in range(0, len(order), 64):
                batch = order[start : start + 64]
                loss = loss_fn(head(features[batch]), labels[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
        head.eval()
        with torch.no_grad():
            val_logits = head(val_tensor).float().cpu().numpy()
            if epoch < 0:
                losses.append(float(loss_fn(head(features), labels)))
        auc = clip_auc(val_windows, val_logits)
        entry = {"stage": 2, "epoch": epoch, "train_loss": float(np.mean(losses)), "val_video_auc": auc}
        log.append(entry)
        print(json.dumps(entry), flush=True)
        if auc > best_auc:
            best_auc, best_logits, stale = auc, val_logits, 0
            best_state = {k: v.detach().clone() for k, v in head.state_dict().items()}
        else:
            stale += 1
            if stale >= config.stage2_patience:
                break
    assert best_state is not None and best_logits is not None
    head.load_state_dict(best_state)
    return best_logits


@torch.no_grad()
def warm_start_scale(frame_head: nn.Linear, features: np.ndarray) -> float:
    """Scale mapping 95% of the frame logits on ``features`` (N, T, D) into [-0.5, 0.5]."""
    logits = frame_head(torch.from_numpy(features.reshape(-1, features.shape[-1]))).squeeze(-1).numpy()
    return float(0.5 / max(np.percentile(np.abs(logits), 95), 1e-3))


@torch.no_grad()
def featurize_dataset(
    model: nn.Module, dataset: SynthesisWindowDataset, device: torch.device, workers: int
) -> tuple[np.ndarray, np.ndarray]:
    """Backbone features (N, T, D) and labels (N,) of every window of ``dataset``, streamed in batches."""
    model.eval()
    features, labels = [], []
    for windows, window_labels, _ in DataLoader(dataset, batch_size=8, num_workers=workers):
        embedded = model.embed(windows.flatten(0, 1).to(device)).float().cpu()
        features.append(embedded.view(windows.shape[0], windows.shape[1], -1).numpy())
        labels.append(window_labels.numpy())
    return np.concatenate(features), np.concatenate(labels)


def build_training_sets(
    entries: list[dict], splits: dict[str, str], seen_methods: tuple[str, ...] = SEEN_METHOD_PREFIXES
) -> dict[str, list[str]]:
    """Clip ids by role: train reals, train provided fakes (seen methods only), validation clips."""
    roles: dict[str, list[str]] = {"train_real": [], "train_fake": [], "val": []}
    for entry in entries:
        split = splits[entry["clip_id"]]
        if split == TRAIN and entry["label"] == "real":
            roles["train_real"].append(entry["clip_id"])
        elif split == TRAIN and is_seen_method(entry["method"], seen_methods):
            roles["train_fake"].append(entry["clip_id"])
        elif split == VAL:
            roles["val"].append(entry["clip_id"])
    return roles


def train(cache: Path, out: Path, config: TrainConfig) -> dict:
    """Runs both stages, calibrates and writes the checkpoint; returns the training log."""
    seed_everything(config.seed)
    device, amp = device_and_amp()
    started = time.monotonic()
    entries = read_index(cache)
    seen = config.seen_method_prefixes
    splits = assign_splits(entries, seed=config.split_seed, seen_methods=seen)
    roles = build_training_sets(entries, splits, seen)
    bank = load_bank(cache, set(roles["train_real"] + roles["train_fake"] + roles["val"]))
    defaults = backbone_defaults("efficientnet_lite0")
    cache_config = json.loads((cache / "config.json").read_text())
    spec = ModelSpec(
        backbone="efficientnet_lite0",
        input_size=config.input_size,
        mean=defaults.mean,
        std=defaults.std,
        window=config.window,
        hidden_size=config.hidden_size,
        crop_margin=cache_config["crop_margin"],
        aligned=cache_config["aligned"],
    )
    model = build_model(spec, pretrained_backbone=True).to(device)
    log: list[dict] = []
    frame_set = SynthesisWindowDataset(
        bank,
        roles["train_real"],
        roles["train_fake"],
        1,
        config.input_size,
        spec.mean,
        spec.std,
        epoch_size=config.batch_size * 200 // (2 if config.paired else 1),
        seed=config.seed,
        mix=config.mix,
        paired=config.paired,
    )
    val_frames = evaluation_windows(
        bank, roles["val"], 1, config.val_windows_per_clip * 2, synthesize=True, seed=config.seed
    )
    print(
        json.dumps(
            {
                "train_real": len(roles["train_real"]),
                "train_fake": len(roles["train_fake"]),
                "val": len(roles["val"]),
                "val_frames": len(val_frames),
                "device": str(device),
            }
        ),
        flush=True,
    )
    frame_head = train_backbone(model, spec, config, frame_set, val_frames, device, amp, log).cpu()
    stage1_s = time.monotonic() - started

    window_set = SynthesisWindowDataset(
        bank,
        roles["train_real"],
        roles["train_fake"],
        config.window,
        config.input_size,
        spec.mean,
        spec.std,
        epoch_size=config.stage2_windows,
        seed=config.seed + 1,
        mix=config.mix,
    )
    train_features, train_labels = featurize_dataset(model, window_set, device, config.workers)
    warm_start_lstm_head(model.head, frame_head.to(device), warm_start_scale(frame_head, train_features))
    val_windows = evaluation_windows(
        bank, roles["val"], config.window, config.val_windows_per_clip, synthesize=True, seed=config.seed
    )
    val_features = embed_windows(model.backbone, (w.crops for w in val_windows), spec, device)
    val_logits = train_head(model, train_features, train_labels, val_features, val_windows, config, device, log)

    val_labels = np.array([w.label for w in val_windows])
    temperature = fit_temperature(val_logits, val_labels)
    probabilities = sigmoid(val_logits / temperature)
    threshold = choose_threshold(probabilities[val_labels == 0], config.max_fpr)
    metrics = {
        "val_video_auc": clip_auc(val_windows, val_logits),
        "val_window_auc": roc_auc(val_labels, val_logits),
        "val_real_window_fpr": float(np.mean(probabilities[val_labels == 0] >= threshold)),
        "split_seed": config.split_seed,
        "split": "identity-grouped (models.data.splits); fakes of other methods are test-only",
        "seen_methods": list(seen),
        "train_config": asdict(config),
        "train_minutes": round((time.monotonic() - started) / 60.0, 1),
    }
    spec = replace(
        spec, temperature=temperature, threshold=threshold, trained=True, training_data=TRAINING_DATA, metrics=metrics
    )
    model = model.cpu()
    sha = save_checkpoint(out, model, spec, half_precision=True)
    result = {
        "checkpoint": str(out),
        "sha256": sha,
        "stage1_minutes": round(stage1_s / 60.0, 1),
        "temperature": temperature,
        "threshold": threshold,
        "metrics": metrics,
        "curve": log,
    }
    out.with_suffix(".train.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="crop cache from models.data.prepare")
    parser.add_argument("--out", type=Path, default=Path("models/checkpoints/detector.pt"))
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1), help="torch CPU threads")
    for field, default in asdict(TrainConfig()).items():
        flag = f"--{field.replace('_', '-')}"
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        else:
            parser.add_argument(flag, type=type(default), default=default)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = TrainConfig(**{field: getattr(args, field) for field in asdict(TrainConfig())})
    result = train(args.cache.expanduser(), args.out, config)
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=2))


if __name__ == "__main__":
    main()
