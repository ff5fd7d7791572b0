"""Trains the default detector on the crop cache; writes a calibrated checkpoint and its ONNX export.

Stage 1 fine-tunes the ImageNet RGB backbone and trains the native-resolution residual branch from
scratch, with a linear frame classifier on their fused features and the residual branch's mask head,
on aligned pairs of single crops: a real crop and a fake made from it by a synthesis family (or a
provided fake of a training identity and its real twin), both through one degradation history.
Stage 2 freezes both branches and trains the LSTM head on windows of features, warm-started as the
mean of the frame classifier; it is kept only when it beats that mean on the validation windows of
the temporal families. Validation (held-out identities only) picks the best step and calibrates the
temperature and the threshold.

    python -m training.train --cache ~/.cache/deepfake-analyzer/crops --out out/detector_v2.pt
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional
from torch.utils.data import DataLoader

from models.backbones import backbone_defaults
from models.checkpoint import ModelSpec, save_checkpoint
from models.native import ARCHITECTURE, NativeCnnLstm, mask_target
from models.registry import build_model
from models.temporal import LstmHead
from training.calibration import choose_threshold, fit_temperature, sigmoid
from training.data.crop_cache import ClipEntry, default_cache, read_config, read_index
from training.data.datasets import (
    TEMPORAL_MIX,
    CachedClip,
    EvalWindow,
    ModelInputs,
    PairDataset,
    canvas_tensor,
    evaluation_windows,
    load_autoencoders,
    load_bank,
)
from training.data.families import FAMILIES
from training.data.splits import TRAIN, VAL, assign_splits, manipulation_family
from training.metrics import roc_auc

VALIDATION_FAMILIES = ("self_blend", "mouth_blend", "rerender_whole", "one_shot", "flicker", "interpolated")
TEMPORAL_FAMILIES = tuple(name for name, family in FAMILIES.items() if family.temporal)


@dataclass(frozen=True)
class TrainConfig:
    """Training recipe; every field is a CLI flag."""

    input_size: int = 128  # RGB crop side fed to the backbone
    window: int = 16  # crops per temporal window (the live engine's ring size)
    hidden_size: int = 128  # LSTM width
    pairs_per_batch: int = 12  # a batch holds both members of each pair
    # Stage 1 ends at whichever comes first; the steps bound it on a quiet 2-core machine, so a busy
    # machine takes longer rather than training less.
    stage1_minutes: float = 75.0  # wall-clock budget of stage 1
    stage1_max_steps: int = 1750  # seed 0 at 2000 steps peaked at 1750 on validation
    backbone_lr: float = 3e-4
    residual_lr: float = 1e-3
    head_lr: float = 1e-3
    weight_decay: float = 1e-4
    mask_weight: float = 0.5  # weight of the residual branch's manipulation-mask loss
    eval_every: int = 250  # stage-1 steps between validations
    patience: int = 8  # validations without improvement before stopping
    stage2_pairs: int = 600  # augmented training pairs of windows featurised for the LSTM
    stage2_epochs: int = 20
    stage2_patience: int = 5
    head_lr_stage2: float = 3e-4
    val_windows_per_clip: int = 4
    max_window_fpr: float = 0.1  # the threshold keeps validation real-window FPR at or under this
    max_clip_fpr: float = 0.05  # ... and validation real-clip FPR at or under this
    split_seed: int = 0
    seed: int = 0
    workers: int = 1  # data loader processes (synthesis, degradation)
    hold_out_family: str = ""  # a manipulation family whose provided fakes are never trained or validated on


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def device_and_amp() -> tuple[torch.device, bool]:
    """cuda with mixed precision when present, else cpu in fp32."""
    if torch.cuda.is_available():
        return torch.device("cuda"), True
    return torch.device("cpu"), False


@dataclass(frozen=True)
class Roles:
    """Clip ids by what training does with them."""

    train_real: list[str]
    train_fake: list[str]  # provided fakes of training identities (minus a held-out family)
    val_real: list[str]
    val_fake: list[str]


def training_roles(entries: list[ClipEntry], splits: dict[str, str], hold_out_family: str = "") -> Roles:
    """Reals and provided fakes of the training and validation splits; a held-out family is left out of both."""
    roles: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        split = splits[entry.clip_id]
        family = manipulation_family(entry.method)
        if split not in (TRAIN, VAL) or (hold_out_family and family == hold_out_family):
            continue
        roles[f"{split}_{'fake' if entry.is_fake else 'real'}"].append(entry.clip_id)
    return Roles(roles["train_real"], roles["train_fake"], roles["val_real"], roles["val_fake"])


@dataclass(frozen=True)
class WindowInfo:
    """What scoring keeps of an evaluated window once its canvases are embedded."""

    clip_id: str
    label: int
    kind: str


def validation_windows(
    bank: dict[str, CachedClip], roles: Roles, length: int, per_clip: int, seed: int, autoencoders: object | None
) -> Iterator[EvalWindow]:
    """Validation reals, provided fakes and fakes of the reals by the validation families (lazily)."""
    families = tuple(f for f in VALIDATION_FAMILIES if autoencoders is not None or not FAMILIES[f].needs_autoencoders)
    clip_ids = roles.val_real + roles.val_fake
    return evaluation_windows(bank, clip_ids, length, per_clip, families, seed, autoencoders)


@torch.no_grad()
def embed_windows(
    model: NativeCnnLstm, windows: Iterable[EvalWindow], inputs: ModelInputs, device: torch.device, batch: int = 64
) -> tuple[np.ndarray, list[WindowInfo]]:
    """Fused features (N, T, D) of each window's crops (inputs derived from the canvases as the engine
    derives them) and what is kept of each window."""
    model.eval()
    outputs, infos = [], []
    for window in windows:
        crops = inputs.crop_tensor(inputs.crops(window.canvases, window.sides))
        canvases = canvas_tensor(window.canvases)
        parts = [
            model.embed(crops[i : i + batch].to(device), canvases[i : i + batch].to(device)).float().cpu()
            for i in range(0, len(crops), batch)
        ]
        outputs.append(torch.cat(parts).numpy())
        infos.append(WindowInfo(window.clip_id, window.label, window.kind))
    return (np.stack(outputs) if outputs else np.zeros((0, 0, 0), np.float32)), infos


def clip_scores(windows: list[WindowInfo], window_scores: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Clip ids, labels and video scores (the mean of each clip's window scores)."""
    per_clip: dict[str, list[float]] = defaultdict(list)
    label_of = {}
    for window, score in zip(windows, window_scores, strict=True):
        per_clip[window.clip_id].append(float(score))
        label_of[window.clip_id] = window.label
    clips = sorted(per_clip)
    return clips, np.array([label_of[c] for c in clips]), np.array([np.mean(per_clip[c]) for c in clips])


def validation_auc(windows: list[WindowInfo], window_scores: np.ndarray) -> dict[str, float]:
    """Video AUC of the validation reals against provided fakes, against synthesized ones, and their mean
    (the figure that picks the checkpoint: neither kind of fake may dominate the choice)."""
    kind_of = {w.clip_id: w.kind for w in windows}
    clips, labels, scores = clip_scores(windows, window_scores)
    kinds = np.array([kind_of[c] for c in clips])
    real = kinds == "real"
    figures = {}
    for name, members in (("provided", kinds == "provided"), ("synthesized", ~real & (kinds != "provided"))):
        chosen = real | members
        if members.any():
            figures[name] = roc_auc(labels[chosen], scores[chosen])
    figures["mean"] = float(np.mean(list(figures.values())))
    return figures


class FrameClassifier(nn.Module):
    """Stage 1's head: a linear logit on the fused per-crop features."""

    def __init__(self, feature_dim: int) -> None:
        super().__init__()
        self.dropout = nn.Dropout(0.2)
        self.linear = nn.Linear(feature_dim, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(features)).squeeze(-1)


def stage1_step(
    model: NativeCnnLstm,
    classifier: FrameClassifier,
    optimizer: torch.optim.Optimizer,
    batch: dict,
    config: TrainConfig,
    device: torch.device,
) -> tuple[float, float]:
    """One update on a batch of single-crop pairs; returns (classification loss, mask loss)."""
    crops = batch["crops"].flatten(0, 2).to(device)  # (B, 2, 1, ...) -> (2B, ...)
    canvases = batch["canvases"].flatten(0, 2).to(device)
    labels = batch["labels"].flatten().to(device)
    masks = batch["masks"].flatten(0, 2).to(device)
    mask_weights = batch["mask_weights"].flatten().to(device)
    model.train()
    classifier.train()
    features, mask_logits = model.embed_with_mask(crops, canvases)
    loss = functional.binary_cross_entropy_with_logits(classifier(features), labels)
    targets = mask_target(masks, mask_logits.shape[-1])
    per_crop = functional.binary_cross_entropy_with_logits(mask_logits, targets, reduction="none").mean(dim=(1, 2))
    mask_loss = (per_crop * mask_weights).sum() / mask_weights.sum().clamp(min=1.0)
    optimizer.zero_grad(set_to_none=True)
    (loss + config.mask_weight * mask_loss).backward()
    optimizer.step()
    return float(loss.detach()), float(mask_loss.detach())


def train_stage1(
    model: NativeCnnLstm,
    config: TrainConfig,
    dataset: PairDataset,
    val_windows: list[EvalWindow],
    inputs: ModelInputs,
    device: torch.device,
    log: list[dict],
) -> FrameClassifier:
    """Stage 1; leaves the best-validating weights in ``model`` and returns that step's frame classifier."""
    classifier = FrameClassifier(model.feature_dim).to(device)
    optimizer = torch.optim.AdamW(
        [
            {"params": model.backbone.parameters(), "lr": config.backbone_lr},
            {"params": model.residual.parameters(), "lr": config.residual_lr},
            {"params": classifier.parameters(), "lr": config.head_lr},
        ],
        weight_decay=config.weight_decay,
    )
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    started = time.monotonic()
    budget_s = config.stage1_minutes * 60.0
    best_score, best_state, stale, step, epoch = -1.0, None, 0, 0, 0
    losses: list[tuple[float, float]] = []
    while step < config.stage1_max_steps and stale < config.patience:
        dataset.set_epoch(epoch)
        loader = DataLoader(
            dataset, batch_size=config.pairs_per_batch, num_workers=config.workers, drop_last=True, collate_fn=_collate
        )
        for batch in loader:
            # Cosine decay over the planned steps or the time budget, whichever ends first.
            progress = max(step / config.stage1_max_steps, (time.monotonic() - started) / budget_s)
            for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
                group["lr"] = base * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
            losses.append(stage1_step(model, classifier, optimizer, batch, config, device))
            step += 1
            out_of_time = time.monotonic() - started >= budget_s or step >= config.stage1_max_steps
            if step % config.eval_every == 0 or out_of_time:
                features, infos = embed_windows(model, val_windows, inputs, device)
                with torch.no_grad():
                    classifier.eval()
                    logits = classifier(torch.from_numpy(features[:, 0]).to(device)).cpu().numpy()
                figures = validation_auc(infos, logits)
                entry = {
                    "stage": 1,
                    "step": step,
                    "epoch": epoch,
                    "train_loss": float(np.mean([loss for loss, _ in losses])),
                    "mask_loss": float(np.mean([mask for _, mask in losses])),
                    **{f"val_auc_{name}": value for name, value in figures.items()},
                    "elapsed_s": round(time.monotonic() - started, 1),
                }
                log.append(entry)
                print(json.dumps(entry), flush=True)
                losses = []
                if figures["mean"] > best_score:
                    best_score, stale = figures["mean"], 0
                    best_state = (
                        {k: v.detach().clone() for k, v in model.state_dict().items()},
                        {k: v.detach().clone() for k, v in classifier.state_dict().items()},
                    )
                else:
                    stale += 1
            if out_of_time or stale >= config.patience:
                break
        epoch += 1
        if time.monotonic() - started >= budget_s:
            break
    if best_state is not None:
        model.load_state_dict(best_state[0])
        classifier.load_state_dict(best_state[1])
    return classifier


def _collate(items: list[dict]) -> dict:
    """Stacks the tensors of a batch; keeps the kinds as a list."""
    batch = {key: torch.stack([item[key] for item in items]) for key in items[0] if key != "kind"}
    batch["kind"] = [item["kind"] for item in items]
    return batch


def warm_start_lstm_head(head: LstmHead, frame_head: nn.Linear, input_scale: float, gate_bias: float = 6.0) -> None:
    """Sets the LSTM head to start as the mean over time of the frame classifier's (squashed) logits.

    LSTM unit 0 gets the frame classifier as its cell input, an input and output gate held open and a
    forget gate held shut, so h_t = tanh(tanh(input_scale * frame_logit_t)); the output layer reads only
    that unit. The other units keep their random input weights but start unread, so training adds
    temporal evidence on top of a head that already scores like the frame classifier. ``input_scale``
    should bring typical frame logits into tanh's near-linear range (see :func:`warm_start_scale`).
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


@torch.no_grad()
def warm_start_scale(frame_head: nn.Linear, features: np.ndarray) -> float:
    """Scale mapping 95% of the frame logits on ``features`` (N, T, D) into [-0.5, 0.5]."""
    logits = frame_head(torch.from_numpy(features.reshape(-1, features.shape[-1]))).squeeze(-1).numpy()
    return float(0.5 / max(np.percentile(np.abs(logits), 95), 1e-3))


@torch.no_grad()
def featurize_pairs(
    model: NativeCnnLstm, dataset: PairDataset, device: torch.device, workers: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (2N, T, D), labels (2N,) and the fake kind of each pair (N,) of every pair of ``dataset``."""
    model.eval()
    features, labels, kinds = [], [], []
    for batch in DataLoader(dataset, batch_size=4, num_workers=workers, collate_fn=_collate):
        crops, canvases = batch["crops"], batch["canvases"]  # (B, 2, T, ...)
        flat = model.embed(crops.flatten(0, 2).to(device), canvases.flatten(0, 2).to(device)).float().cpu()
        features.append(flat.view(crops.shape[0] * 2, crops.shape[2], -1).numpy())
        labels.append(batch["labels"].flatten().numpy())
        kinds.extend(batch["kind"])
    return np.concatenate(features), np.concatenate(labels), kinds


def train_head(
    model: NativeCnnLstm,
    train_features: np.ndarray,
    train_labels: np.ndarray,
    val_features: np.ndarray,
    val_windows: list[WindowInfo],
    config: TrainConfig,
    device: torch.device,
    log: list[dict],
) -> np.ndarray:
    """Stage 2: the LSTM head on frozen features; returns the kept head's validation logits.

    Epoch -1 is the warm-started head, which scores as the mean of the frame classifier: training is
    kept only where it beats it on the validation windows of the temporal families.
    """
    head = model.head
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.head_lr_stage2, weight_decay=1e-2)
    loss_fn = nn.BCEWithLogitsLoss()
    features = torch.from_numpy(train_features).to(device)
    labels = torch.from_numpy(train_labels.astype(np.float32)).to(device)
    val_tensor = torch.from_numpy(val_features).to(device)
    generator = torch.Generator().manual_seed(config.seed)
    temporal = [w.kind in TEMPORAL_FAMILIES or w.kind == "real" for w in val_windows]
    temporal_windows = [w for w, keep in zip(val_windows, temporal, strict=True) if keep]
    best, best_state, best_logits, stale = None, None, None, 0
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
        overall = validation_auc(val_windows, val_logits)["mean"]
        temporal_auc = validation_auc(temporal_windows, val_logits[np.array(temporal)])["mean"]
        entry = {
            "stage": 2,
            "epoch": epoch,
            "train_loss": float(np.mean(losses)),
            "val_auc_mean": overall,
            "val_auc_temporal": temporal_auc,
        }
        log.append(entry)
        print(json.dumps(entry), flush=True)
        # The head must help on motion without costing elsewhere: rank by both, temporal first.
        score = (round(temporal_auc, 3), round(overall, 3))
        if best is None or (score > best and overall >= best[1] - 0.005):
            best, best_logits, stale = score, val_logits, 0
            best_state = {k: v.detach().clone() for k, v in head.state_dict().items()}
        else:
            stale += 1
            if stale >= config.stage2_patience:
                break
    assert best_state is not None and best_logits is not None
    head.load_state_dict(best_state)
    return best_logits


def calibrate(windows: list[WindowInfo], logits: np.ndarray, config: TrainConfig) -> tuple[float, float, dict]:
    """Temperature by NLL on validation windows; the lowest threshold >= 0.5 that keeps validation real
    windows and real clips under their false-positive bounds."""
    labels = np.array([w.label for w in windows])
    temperature = fit_temperature(logits, labels)
    probabilities = sigmoid(logits / temperature)
    _, clip_labels, clip_probabilities = clip_scores(windows, probabilities)
    threshold = max(
        choose_threshold(probabilities[labels == 0], config.max_window_fpr),
        choose_threshold(clip_probabilities[clip_labels == 0], config.max_clip_fpr),
    )
    figures = {
        "val_real_window_fpr": float(np.mean(probabilities[labels == 0] >= threshold)),
        "val_real_clip_fpr": float(np.mean(clip_probabilities[clip_labels == 0] >= threshold)),
        "val_fake_clip_tpr": float(np.mean(clip_probabilities[clip_labels == 1] >= threshold)),
    }
    return temperature, threshold, figures


def training_data_text(cache: Path, hold_out: str) -> str:
    sources = sorted({entry.source for entry in read_index(cache)})
    held = f" Provided fakes of the {hold_out!r} family were held out of training and validation." if hold_out else ""
    return (
        "Face canvases (dlib HOG detector and the engine's tracker, margin 1.3, native resolution up to 256 px) of "
        "../shared/data (manifest.csv and manifest_extra.csv), for research and evaluation use only; sources and "
        f"licenses per the manifests ({len(sources)} source repositories). Train split: real clips and images of "
        "the training identities, fakes synthesized from them (self-blends, landmark swaps, low-resolution mouth "
        "and eye blends, autoencoder re-renderings, one-shot warps, frozen backgrounds, flicker, interpolated "
        "frames), each paired with its real and put through the same degradation, and the provided fakes of "
        f"training identities.{held}"
    )


def train(cache: Path, out: Path, config: TrainConfig, autoencoders_dir: Path | None = None) -> dict:
    """Runs both stages, calibrates and writes the checkpoint; returns the training log."""
    seed_everything(config.seed)
    device, _ = device_and_amp()
    started = time.monotonic()
    entries = read_index(cache)
    cache_config = read_config(cache)
    splits = assign_splits(entries, seed=config.split_seed)
    roles = training_roles(entries, splits, config.hold_out_family)
    bank = load_bank(cache, set(roles.train_real + roles.train_fake + roles.val_real + roles.val_fake))
    autoencoders = load_autoencoders(autoencoders_dir)
    defaults = backbone_defaults("efficientnet_lite0")
    spec = ModelSpec(
        architecture=ARCHITECTURE,
        backbone="efficientnet_lite0",
        input_size=config.input_size,
        mean=defaults.mean,
        std=defaults.std,
        window=config.window,
        hidden_size=config.hidden_size,
        crop_margin=cache_config.crop_margin,
        canvas_size=cache_config.canvas_size,
    )
    inputs = ModelInputs(spec.input_size, spec.mean, spec.std)
    model: NativeCnnLstm = build_model(spec, pretrained_backbone=True).to(device)
    log: list[dict] = []
    pairs = PairDataset(
        bank,
        roles.train_real,
        roles.train_fake,
        1,
        inputs,
        epoch_size=config.pairs_per_batch * config.eval_every,
        seed=config.seed,
        autoencoders=autoencoders,
    )
    val_frames = list(validation_windows(bank, roles, 1, config.val_windows_per_clip * 2, config.seed, autoencoders))
    print(
        json.dumps(
            {
                "train_real": len(roles.train_real),
                "train_fake": len(roles.train_fake),
                "val_real": len(roles.val_real),
                "val_fake": len(roles.val_fake),
                "val_frames": len(val_frames),
                "pair_kinds": dict(zip(pairs.kinds, np.round(pairs.probabilities, 3).tolist(), strict=True)),
                "autoencoders": len(autoencoders) if autoencoders is not None else 0,
                "device": str(device),
            }
        ),
        flush=True,
    )
    frame_classifier = train_stage1(model, config, pairs, val_frames, inputs, device, log).cpu()
    stage1_s = time.monotonic() - started
    model = model.cpu() if device.type == "cpu" else model

    window_pairs = PairDataset(
        bank,
        roles.train_real,
        roles.train_fake,
        config.window,
        inputs,
        epoch_size=config.stage2_pairs,
        seed=config.seed + 1,
        mix=TEMPORAL_MIX,
        autoencoders=autoencoders,
    )
    train_features, train_labels, _ = featurize_pairs(model, window_pairs, device, config.workers)
    linear = frame_classifier.linear
    warm_start_lstm_head(model.head, linear.to(device), warm_start_scale(linear.cpu(), train_features))
    windows = validation_windows(bank, roles, config.window, config.val_windows_per_clip, config.seed, autoencoders)
    val_features, val_windows = embed_windows(model, windows, inputs, device)
    val_logits = train_head(model, train_features, train_labels, val_features, val_windows, config, device, log)

    temperature, threshold, calibration = calibrate(val_windows, val_logits, config)
    metrics = {
        "val_video_auc": validation_auc(val_windows, val_logits),
        **calibration,
        "split_seed": config.split_seed,
        "split": "units of shared identity, footage and face descriptor (training.data.splits)",
        "hold_out_family": config.hold_out_family,
        "train_config": asdict(config),
        "train_minutes": round((time.monotonic() - started) / 60.0, 1),
        "autoencoders": len(autoencoders) if autoencoders is not None else 0,
    }
    spec = replace(
        spec,
        temperature=temperature,
        threshold=threshold,
        trained=True,
        training_data=training_data_text(cache, config.hold_out_family),
        metrics=metrics,
    )
    sha = save_checkpoint(out, model.cpu(), spec, half_precision=True)
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
    parser.add_argument("--cache", type=Path, default=default_cache(), help="crop cache from training.data.prepare")
    parser.add_argument("--autoencoders", type=Path, help="re-rendering bank (default: <cache>/autoencoders)")
    # Not the shipped checkpoint: a new run replaces it only by a deliberate --out (see models/MODEL_CARD.md).
    parser.add_argument("--out", type=Path, default=Path("out/detector_v2.pt"))
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
    cache = args.cache.expanduser()
    result = train(cache, args.out, config, args.autoencoders or cache / "autoencoders")
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=2))


if __name__ == "__main__":
    main()
