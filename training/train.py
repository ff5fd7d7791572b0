"""Trains a CNN detector on the crop cache through its :class:`training.trainable.Trainable`; writes a
calibrated checkpoint.

Stage 1 trains what the detector reads per crop (for ``cnn_npr_lstm``: the ImageNet RGB backbone fine-tuned
and the native-resolution residual branch from scratch, with its mask head) and a frame classifier on the
features, on aligned pairs of single crops: a real crop and a fake made from it by a synthesis family (or a
provided fake of a training identity and its real twin), both through one degradation history.
Stage 2 freezes the features and trains the window head on windows of them, warm-started from the frame
classifier; it is kept only when it beats that start on the validation windows of the temporal families.
Validation (held-out identities only) picks the best step and calibrates the temperature and the threshold.

    python -m training.train --cache ~/.cache/deepfake-analyzer/crops --out out/detector_v2.pt
    python -m training.train --architecture cnn_lstm --out out/cnn_lstm.pt
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
from torch.utils.data import DataLoader

from models.backbones import backbone_defaults
from models.checkpoint import ModelSpec, save_checkpoint
from models.registry import build_model
from training.calibration import choose_threshold, fit_temperature, sigmoid
from training.cnn_trainable import TRAINABLES, build_trainable, trainable_kind
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
from training.train_config import TrainConfig
from training.trainable import OVERALL, CropBatch, Trainable

VALIDATION_FAMILIES = ("self_blend", "mouth_blend", "rerender_whole", "one_shot", "flicker", "interpolated")
TEMPORAL_FAMILIES = tuple(name for name, family in FAMILIES.items() if family.temporal)


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
    trainable: Trainable, windows: Iterable[EvalWindow], inputs: ModelInputs, device: torch.device, batch: int = 64
) -> tuple[np.ndarray, list[WindowInfo]]:
    """Per-crop features (N, T, D) of each window's crops (inputs derived from the canvases as the engine
    derives them) and what is kept of each window."""
    trainable.eval()
    outputs, infos = [], []
    for window in windows:
        crops = inputs.crop_tensor(inputs.crops(window.canvases, window.sides))
        canvases = canvas_tensor(window.canvases)
        parts = [
            trainable.features(CropBatch(crops[i : i + batch], canvases[i : i + batch]).to(device))["features"]
            for i in range(0, len(crops), batch)
        ]
        outputs.append(torch.cat(parts).float().cpu().numpy())
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


def stage1_step(
    trainable: Trainable, optimizer: torch.optim.Optimizer, batch: dict, device: torch.device
) -> dict[str, float]:
    """One update on a batch of pairs (``PairDataset``); returns its named losses."""
    crops = CropBatch.of_pairs(batch).to(device)
    trainable.train()
    losses = trainable.losses(crops, trainable(crops))
    optimizer.zero_grad(set_to_none=True)
    losses[OVERALL].backward()
    optimizer.step()
    return {name: float(value.detach()) for name, value in losses.items()}


def train_stage1(
    trainable: Trainable,
    config: TrainConfig,
    dataset: PairDataset,
    val_windows: list[EvalWindow],
    inputs: ModelInputs,
    device: torch.device,
    log: list[dict],
) -> None:
    """Stage 1; leaves the best-validating weights (detector and frame classifier) in ``trainable``."""
    optimizer = torch.optim.AdamW(trainable.parameter_groups(), weight_decay=config.weight_decay)
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    started = time.monotonic()
    budget_s = config.stage1_minutes * 60.0
    best_score, best_state, stale, step, epoch = -1.0, None, 0, 0, 0
    losses: list[dict[str, float]] = []
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
            losses.append(stage1_step(trainable, optimizer, batch, device))
            step += 1
            out_of_time = time.monotonic() - started >= budget_s or step >= config.stage1_max_steps
            if step % config.eval_every == 0 or out_of_time:
                parts = [name for name in losses[-1] if name != OVERALL]  # the named parts of the overall loss
                features, infos = embed_windows(trainable, val_windows, inputs, device)
                with torch.no_grad():
                    logits = trainable.classifier(torch.from_numpy(features[:, 0]).to(device)).float().cpu().numpy()
                figures = validation_auc(infos, logits)
                entry = {
                    "stage": 1,
                    "step": step,
                    "epoch": epoch,
                    "train_loss": float(np.mean([named[OVERALL] for named in losses])),
                    **{f"{part}_loss": float(np.mean([named[part] for named in losses])) for part in parts},
                    **{f"val_auc_{name}": value for name, value in figures.items()},
                    "elapsed_s": round(time.monotonic() - started, 1),
                }
                log.append(entry)
                print(json.dumps(entry), flush=True)
                losses = []
                if figures["mean"] > best_score:
                    best_score, stale = figures["mean"], 0
                    best_state = {k: v.detach().clone() for k, v in trainable.state_dict().items()}
                else:
                    stale += 1
            if out_of_time or stale >= config.patience:
                break
        epoch += 1
        if time.monotonic() - started >= budget_s:
            break
    if best_state is not None:
        trainable.load_state_dict(best_state)


def _collate(items: list[dict]) -> dict:
    """Stacks the tensors of a batch; keeps the kinds as a list."""
    batch = {key: torch.stack([item[key] for item in items]) for key in items[0] if key != "kind"}
    batch["kind"] = [item["kind"] for item in items]
    return batch


@torch.no_grad()
def featurize_pairs(
    trainable: Trainable, dataset: PairDataset, device: torch.device, workers: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (2N, T, D), labels (2N,) and the fake kind of each pair (N,) of every pair of ``dataset``."""
    trainable.eval()
    features, labels, kinds = [], [], []
    for batch in DataLoader(dataset, batch_size=4, num_workers=workers, collate_fn=_collate):
        pairs, steps = batch["crops"].shape[0], batch["crops"].shape[2]
        flat = trainable.features(CropBatch.of_pairs(batch).to(device))["features"].float().cpu()
        features.append(flat.view(pairs * 2, steps, -1).numpy())
        labels.append(batch["labels"].flatten().numpy())
        kinds.extend(batch["kind"])
    return np.concatenate(features), np.concatenate(labels), kinds


def train_head(
    trainable: Trainable,
    train_features: np.ndarray,
    train_labels: np.ndarray,
    val_features: np.ndarray,
    val_windows: list[WindowInfo],
    config: TrainConfig,
    device: torch.device,
    log: list[dict],
) -> np.ndarray:
    """Stage 2: the LSTM head on frozen features; returns the kept head's validation logits.

    Epoch -1 is the warm-started head (for the CNNs: scoring as the mean of the frame classifier): training
    is kept only where it beats it on the validation windows of the temporal families.
    """
    head = trainable.window_head
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
    kind = trainable_kind(config.architecture)
    spec = ModelSpec(
        architecture=kind.architecture,
        backbone="efficientnet_lite0",
        input_size=config.input_size,
        mean=defaults.mean,
        std=defaults.std,
        window=config.window,
        hidden_size=config.hidden_size,
        crop_margin=cache_config.crop_margin,
        canvas_size=cache_config.canvas_size if kind.reads_canvas else 0,
    )
    inputs = ModelInputs(spec.input_size, spec.mean, spec.std)
    trainable = build_trainable(build_model(spec, pretrained_backbone=True), config).to(device)
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
    train_stage1(trainable, config, pairs, val_frames, inputs, device, log)
    stage1_s = time.monotonic() - started

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
    train_features, train_labels, _ = featurize_pairs(trainable, window_pairs, device, config.workers)
    trainable.start_window_head(torch.from_numpy(train_features))
    windows = validation_windows(bank, roles, config.window, config.val_windows_per_clip, config.seed, autoencoders)
    val_features, val_windows = embed_windows(trainable, windows, inputs, device)
    val_logits = train_head(trainable, train_features, train_labels, val_features, val_windows, config, device, log)

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
    sha = save_checkpoint(out, trainable.detector.cpu(), spec, half_precision=True)
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
            choices = sorted(TRAINABLES) if field == "architecture" else None
            parser.add_argument(flag, type=type(default), default=default, choices=choices)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = TrainConfig(**{field: getattr(args, field) for field in asdict(TrainConfig())})
    cache = args.cache.expanduser()
    result = train(cache, args.out, config, args.autoencoders or cache / "autoencoders")
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=2))


if __name__ == "__main__":
    main()
