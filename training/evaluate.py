"""Evaluates a checkpoint on the crop cache: video AUC per manipulation family, per method and per synthesis
family, with bootstrap intervals, ECE and false-positive rates at the stored threshold; JSON and a ROC plot.

Scores are calibrated probabilities, p_fake = sigmoid(logit / spec.temperature). Definitions:

* window score: the temporal head over ``spec.window`` consecutive crops of one segment;
* frame score: the head over a window of one crop;
* video score: the mean of a clip's window scores (the cache keeps one face per clip, so the
  engine's max over faces is that face);
* frame-mean score: the mean of a window's frame scores, the alternative the temporal head must beat.

Clips are split exactly as in training (``training.data.splits`` with the checkpoint's seed). Every
subset pairs the split's real clips with some fakes: the provided fakes of one manipulation family,
of one method, or fakes synthesized from those very real clips by one synthesis family. A checkpoint
trained without a family (``hold_out_family``) is also scored on every clip of that family, in any
split, since it never saw one.

    python -m training.evaluate --model models/checkpoints/detector.pt
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import save_checkpoint
from models.registry import LoadedModel, load_model
from training.calibration import sigmoid
from training.data.crop_cache import default_cache, read_index
from training.data.datasets import CachedClip, ModelInputs, canvas_tensor, load_autoencoders, load_bank
from training.data.families import FAMILIES, SynthesisContext
from training.data.splits import TEST, VAL, assign_splits, manipulation_family, method_name
from training.metrics import roc_auc, roc_curve, summary

BOOTSTRAP_SAMPLES = 1000


@dataclass(frozen=True)
class ClipScores:
    """Calibrated scores of one clip (or of a synthesized fake of a real clip)."""

    clip_id: str
    label: int
    method: str
    family: str  # manipulation family ("real" for reals), or the synthesis family of a synthesized fake
    source: str
    frame_scores: np.ndarray  # (N,) one per crop
    window_scores: np.ndarray  # (W,)
    frame_mean_scores: np.ndarray  # (W,) mean frame score of each window

    @property
    def video_score(self) -> float:
        return float(self.window_scores.mean())

    @property
    def frame_mean_video_score(self) -> float:
        return float(self.frame_mean_scores.mean())


@torch.no_grad()
def score_clip(loaded: LoadedModel, clip: CachedClip, batch: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame, window and frame-mean probabilities of one clip's canvases."""
    spec = loaded.spec
    inputs = ModelInputs(spec.input_size, spec.mean, spec.std)
    crops = inputs.crop_tensor(inputs.crops(clip.crops, clip.canvas_side))
    parts = []
    for start in range(0, len(crops), batch):
        if spec.canvas_size:
            canvases = canvas_tensor(clip.crops[start : start + batch])
            parts.append(loaded.model.embed(crops[start : start + batch], canvases))
        else:
            parts.append(loaded.model.embed(crops[start : start + batch]))
    features = torch.cat(parts)
    frame = sigmoid(loaded.model.score_features(features[:, None, :]).numpy() / spec.temperature)
    starts = clip.window_starts(spec.window)
    indices = [clip.window_indices(s, spec.window) for s in starts]
    windows = torch.stack([features[torch.from_numpy(i)] for i in indices])
    window = sigmoid(loaded.model.score_features(windows).numpy() / spec.temperature)
    return frame, window, np.array([frame[i].mean() for i in indices])


def synthesized(clip: CachedClip, family: str, donors: list[CachedClip], seed: int, autoencoders: object | None):
    """A fake of every segment of a real clip by ``family``, parameters seeded by the clip and the family."""
    key = int(hashlib.sha1(f"{clip.clip_id}:{family}".encode()).hexdigest()[:8], 16)
    rng = np.random.default_rng([seed, key])
    fakes = clip.crops.copy()
    others = [d for d in donors if d.entry.identity != clip.entry.identity]
    for segment in np.unique(clip.segment):
        positions = np.flatnonzero(clip.segment == segment)
        donor = None
        if FAMILIES[family].needs_donor and others:
            other = others[int(rng.integers(len(others)))]
            chosen = np.arange(len(positions)) % len(other.crops)
            donor = (other.crops[chosen], other.landmarks[chosen])
        context = SynthesisContext(donor=donor, autoencoders=autoencoders)
        fakes[positions] = FAMILIES[family].make(clip.crops[positions], clip.landmarks[positions], rng, context)[0]
    entry = replace(clip.entry, clip_id=f"{clip.clip_id}#{family}", label="fake", method=f"synthetic: {family}")
    return CachedClip(entry, fakes, clip.canvas_side, clip.landmarks, clip.segment)


def score_bank(
    loaded: LoadedModel, bank: dict[str, CachedClip], families: tuple[str, ...], seed: int, autoencoders: object | None
) -> list[ClipScores]:
    """Scores every clip and, for real clips, a fake of each by every synthesis family in ``families``."""
    results = []
    reals = [clip for clip in bank.values() if clip.entry.label == "real"]
    for clip_id, clip in sorted(bank.items()):
        entry = clip.entry
        label = int(entry.label == "fake")
        frame, window, frame_mean = score_clip(loaded, clip)
        family = manipulation_family(entry.method)
        results.append(ClipScores(clip_id, label, entry.method, family, entry.source, frame, window, frame_mean))
        if label:
            continue
        for name in families:
            fake = synthesized(clip, name, reals, seed, autoencoders)
            frame, window, frame_mean = score_clip(loaded, fake)
            method = fake.entry.method
            results.append(ClipScores(fake.clip_id, 1, method, name, entry.source, frame, window, frame_mean))
    return results


def bootstrap_auc(labels: np.ndarray, scores: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95% interval of the AUC over resamples of the real and the fake clips (each with replacement)."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if len(positives) == 0 or len(negatives) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(BOOTSTRAP_SAMPLES):
        p = rng.choice(positives, len(positives))
        n = rng.choice(negatives, len(negatives))
        values.append(roc_auc(np.r_[np.ones(len(p)), np.zeros(len(n))], np.r_[p, n]))
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def subset_report(scores: list[ClipScores], threshold: float) -> dict:
    """Frame-, window- and video-level figures for one subset of clips, the video AUC with its interval."""

    def level(values: Callable[[ClipScores], np.ndarray]) -> dict:
        labels = np.concatenate([np.full(len(values(s)), s.label) for s in scores])
        return summary(labels, np.concatenate([values(s) for s in scores]), threshold)

    labels = np.array([s.label for s in scores])
    video = np.array([s.video_score for s in scores])
    low, high = bootstrap_auc(labels, video)
    frame_mean = np.array([s.frame_mean_video_score for s in scores])
    return {
        "clips": len(scores),
        "fake_clips": int(labels.sum()),
        "video": {**level(lambda s: np.array([s.video_score])), "auc_ci95": [low, high]},
        "video_frame_mean_auc": roc_auc(labels, frame_mean),
        "window": level(lambda s: s.window_scores),
        "frame": level(lambda s: s.frame_scores),
    }


def build_subsets(
    scores: list[ClipScores], split_of: dict[str, str], split: str, hold_out_family: str = ""
) -> dict[str, list[ClipScores]]:
    """Named subsets of one split, each the split's real clips and some fakes."""

    def split_of_score(s: ClipScores) -> str | None:
        return split_of.get(s.clip_id.split("#")[0])

    in_split = [s for s in scores if split_of_score(s) == split]
    reals = [s for s in in_split if not s.label]
    provided = [s for s in in_split if s.label and "#" not in s.clip_id]
    synthetic = [s for s in in_split if "#" in s.clip_id]
    subsets: dict[str, list[ClipScores]] = {f"{split}: all provided fakes": reals + provided}
    for family in sorted({s.family for s in provided}):
        subsets[f"{split}: family: {family}"] = reals + [s for s in provided if s.family == family]
    for method in sorted({method_name(s.method) for s in provided}):
        subsets[f"{split}: method: {method}"] = reals + [s for s in provided if method_name(s.method) == method]
    for family in sorted({s.family for s in synthetic}):
        subsets[f"{split}: synthetic: {family}"] = reals + [s for s in synthetic if s.family == family]
    if hold_out_family:
        # Never trained or validated on: every clip of the family counts, whatever its split.
        held = [s for s in scores if s.label and "#" not in s.clip_id and s.family == hold_out_family]
        subsets[f"{split}: held-out family (all splits): {hold_out_family}"] = reals + held
    return {name: members for name, members in subsets.items() if any(s.label for s in members)}


def reals_by_source(scores: list[ClipScores], split_of: dict[str, str], split: str, threshold: float) -> dict:
    """Per source repository of the split's real clips: how many, their mean video score, how many called fake."""
    groups: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        if not s.label and split_of.get(s.clip_id) == split:
            groups[s.source].append(s.video_score)
    return {
        source: {
            "clips": len(values),
            "mean_p_fake": round(float(np.mean(values)), 3),
            "fpr": round(float(np.mean(np.array(values) >= threshold)), 3),
        }
        for source, values in sorted(groups.items())
    }


def evaluated_summary(subsets: dict[str, dict], split: str) -> list[dict]:
    """What a checkpoint says about itself (spec.metrics["evaluation"]): video AUC per family of the split."""
    rows = []
    for name, figures in subsets.items():
        for kind in ("family", "synthetic", "held-out family (all splits)"):
            prefix = f"{split}: {kind}: "
            if name.startswith(prefix):
                rows.append(
                    {
                        "family": name.removeprefix(prefix),
                        "kind": "provided" if kind == "family" else kind.split(" ")[0],
                        "video_auc": round(figures["video"]["auc"], 3),
                        "video_auc_ci95": [round(v, 3) for v in figures["video"]["auc_ci95"]],
                        "clips": figures["fake_clips"],
                        "real_clips": figures["clips"] - figures["fake_clips"],
                        "real_fpr": round(figures["video"]["fpr"], 3),
                        "ece": round(figures["video"]["ece"], 3),
                    }
                )
    return rows


def plot_roc(subsets: dict[str, list[ClipScores]], path: Path, title: str) -> None:
    """Video-level ROC curves of the family subsets in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 7))
    for name, members in subsets.items():
        if ": method: " in name:
            continue
        labels = np.array([s.label for s in members])
        fpr, tpr, _ = roc_curve(labels, np.array([s.video_score for s in members]))
        axis.plot(fpr, tpr, label=f"{name.split(': ', 1)[1]} (n={int(labels.sum())})", linewidth=1)
    axis.plot([0, 1], [0, 1], linestyle=":", color="gray")
    axis.set_xlabel("false-positive rate (real clips called fake)")
    axis.set_ylabel("true-positive rate")
    axis.set_title(title)
    axis.legend(loc="lower right", fontsize=6)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def evaluate(
    model_path: Path,
    cache: Path,
    splits: list[str],
    out_json: Path,
    out_png: Path,
    families: tuple[str, ...],
    autoencoders: object | None = None,
    split_seed: int | None = None,
) -> dict:
    """Scores the chosen splits, writes the JSON report and ROC PNG, returns the report."""
    loaded = load_model(model_path)
    spec = loaded.spec
    seed = int(spec.metrics.get("split_seed", 0)) if split_seed is None else split_seed
    hold_out = str(spec.metrics.get("hold_out_family", ""))
    entries = read_index(cache)
    split_of = assign_splits(entries, seed=seed)
    wanted = {c for c, s in split_of.items() if s in splits}
    if hold_out:
        wanted |= {e.clip_id for e in entries if manipulation_family(e.method) == hold_out}
    bank = load_bank(cache, wanted)
    scores = score_bank(loaded, bank, families, seed, autoencoders)
    subsets: dict[str, list[ClipScores]] = {}
    for split in splits:
        subsets.update(build_subsets(scores, split_of, split, hold_out))
    reports = {name: subset_report(members, spec.threshold) for name, members in subsets.items()}
    report = {
        "model": str(model_path),
        "architecture": spec.architecture,
        "threshold": spec.threshold,
        "temperature": spec.temperature,
        "window": spec.window,
        "split_seed": seed,
        "hold_out_family": hold_out,
        "video_score": "mean over a clip's windows (the cache keeps one face per clip)",
        "evaluated": evaluated_summary(reports, splits[0]),
        "subsets": reports,
        "reals_by_source": {split: reals_by_source(scores, split_of, split, spec.threshold) for split in splits},
        "clips": [
            {
                "clip_id": s.clip_id,
                "split": split_of.get(s.clip_id.split("#")[0]),
                "label": s.label,
                "method": s.method,
                "family": s.family,
                "source": s.source,
                "video_score": round(s.video_score, 4),
                "frame_mean_video_score": round(s.frame_mean_video_score, 4),
            }
            for s in scores
        ],
    }
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(report, indent=2))
    first = {k: v for k, v in subsets.items() if k.startswith(splits[0])}
    plot_roc(first, out_png, f"{model_path.name}: video-level ROC, {splits[0]} split")
    return report


def store_evaluation(model_path: Path, report: dict) -> str:
    """Writes the per-family summary into the checkpoint's own spec (``metrics["evaluation"]``); its new sha256."""
    loaded = load_model(model_path)
    metrics = {**loaded.spec.metrics, "evaluation": {"split": "test", "families": report["evaluated"]}}
    return save_checkpoint(model_path, loaded.model, replace(loaded.spec, metrics=metrics), half_precision=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/checkpoints/detector.pt"))
    parser.add_argument("--cache", type=Path, default=default_cache(), help="crop cache from training.data.prepare")
    parser.add_argument("--autoencoders", type=Path, help="re-rendering bank (default: <cache>/autoencoders)")
    parser.add_argument("--splits", nargs="+", default=[TEST], choices=[TEST, VAL, "train"])
    parser.add_argument("--families", nargs="*", default=sorted(FAMILIES), help="synthesis families to score")
    parser.add_argument("--split-seed", type=int, help="split seed (default: the checkpoint's)")
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default: <model>.eval.json)")
    parser.add_argument("--store", action="store_true", help="write the per-family summary into the checkpoint")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    cache = args.cache.expanduser()
    autoencoders = load_autoencoders(args.autoencoders or cache / "autoencoders")
    families = tuple(f for f in args.families if autoencoders is not None or not FAMILIES[f].needs_autoencoders)
    out_json = args.out or args.model.with_suffix(".eval.json")
    report = evaluate(
        args.model,
        cache,
        args.splits,
        out_json,
        out_json.with_suffix(".roc.png"),
        families,
        autoencoders,
        args.split_seed,
    )
    for name, figures in report["subsets"].items():
        video = figures["video"]
        low, high = video["auc_ci95"]
        print(
            f"{name:70s} fakes={figures['fake_clips']:3d} video AUC={video['auc']:.3f} [{low:.2f}-{high:.2f}] "
            f"FPR={video['fpr']:.2f} TPR={video['tpr']:.2f} frame-mean AUC={figures['video_frame_mean_auc']:.3f}"
        )
    if args.store:
        print(json.dumps({"stored_in": str(args.model), "sha256": store_evaluation(args.model, report)}))


if __name__ == "__main__":
    main()
