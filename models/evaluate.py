"""Evaluates a checkpoint on cached clips: frame-, window- and video-level figures, JSON and a ROC plot.

Scores are calibrated probabilities, p_fake = sigmoid(logit / spec.temperature), read against the
checkpoint's stored threshold. Definitions:

* frame score: the temporal head over a window of one crop (what the live engine reports for a
  track's first frame);
* window score: the head over ``spec.window`` consecutive crops of one segment;
* video score: mean over a clip's windows of the max over its faces. The cache keeps the
  largest face of each frame, so on cached clips the max is over that one face.

Clips are split exactly as in training (``models.data.splits`` with the seed stored in the
checkpoint). Reported subsets: all test clips; test reals vs fakes of the method trained on
(held-out identities); test reals vs fakes of methods never trained on, together and per method;
test reals vs self-blended copies of them.

    python -m models.evaluate --model models/checkpoints/detector.pt
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.calibration import sigmoid
from models.data.datasets import CachedClip, load_bank, method_family, to_tensor
from models.data.prepare import DEFAULT_CACHE, read_index
from models.data.splits import SEEN_METHOD_PREFIXES, TEST, VAL, assign_splits, is_seen_method
from models.data.synthesis import sample_blend_params, self_blend_window
from models.metrics import roc_curve, summary
from models.registry import LoadedModel, load_model


@dataclass(frozen=True)
class ClipScores:
    """Calibrated scores of one clip (or of a self-blended copy of a real clip)."""

    clip_id: str
    label: int
    method: str
    source: str
    frame_scores: np.ndarray  # (N,) one per crop
    window_scores: np.ndarray  # (W,)

    @property
    def video_score(self) -> float:
        return float(self.window_scores.mean())


@torch.no_grad()
def score_crops(
    loaded: LoadedModel, crops: np.ndarray, segments: np.ndarray, batch: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Frame and window probabilities of one clip's crops (N, S, S, 3) with segment ids (N,)."""
    import cv2

    spec = loaded.spec
    if crops.shape[1] != spec.input_size:
        crops = np.stack(
            [cv2.resize(c, (spec.input_size, spec.input_size), interpolation=cv2.INTER_AREA) for c in crops]
        )
    tensor = to_tensor(crops, spec.mean, spec.std)
    features = torch.cat([loaded.model.embed(tensor[i : i + batch]) for i in range(0, len(tensor), batch)])
    frame_logits = loaded.model.score_features(features[:, None, :]).numpy()
    clip = CachedClip({}, crops, np.zeros((len(crops), 68, 2), np.float32), segments)
    starts = clip.window_starts(spec.window)
    windows = torch.stack([features[torch.from_numpy(clip.window_indices(s, spec.window))] for s in starts])
    window_logits = loaded.model.score_features(windows).numpy()
    temperature = spec.temperature
    return sigmoid(frame_logits / temperature), sigmoid(window_logits / temperature)


def score_bank(
    loaded: LoadedModel, bank: dict[str, CachedClip], self_blend_reals: bool, seed: int = 0
) -> list[ClipScores]:
    """Scores every clip; with ``self_blend_reals`` also a self-blended copy of each real clip."""
    results = []
    for clip_id, clip in sorted(bank.items()):
        entry = clip.entry
        label = int(entry["label"] == "fake")
        frames, windows = score_crops(loaded, clip.crops, clip.segment)
        results.append(ClipScores(clip_id, label, entry["method"], entry["source"], frames, windows))
        if self_blend_reals and not label:
            # Seeded by the clip itself, so a clip's self-blend is the same whichever splits are scored.
            clip_key = int(hashlib.sha1(clip_id.encode()).hexdigest()[:8], 16)
            params = sample_blend_params(np.random.default_rng([seed, clip_key]))
            blended = self_blend_window(clip.crops, clip.landmarks, params)[0]
            frames, windows = score_crops(loaded, blended, clip.segment)
            results.append(
                ClipScores(f"{clip_id}#self_blend", 1, "self-blend (synthetic)", entry["source"], frames, windows)
            )
    return results


def subset_report(scores: list[ClipScores], threshold: float) -> dict:
    """Frame-, window- and video-level figures for one subset of clips."""

    def level(values: Callable[[ClipScores], np.ndarray]) -> dict:
        labels = np.concatenate([np.full(len(values(s)), s.label) for s in scores])
        return summary(labels, np.concatenate([values(s) for s in scores]), threshold)

    return {
        "clips": len(scores),
        "fake_clips": sum(s.label for s in scores),
        "video": level(lambda s: np.array([s.video_score])),
        "window": level(lambda s: s.window_scores),
        "frame": level(lambda s: s.frame_scores),
    }


def self_blend_pairs(scores: list[ClipScores]) -> dict:
    """Each real clip against its own self-blended copy, at video level.

    The self-blend subset's AUC ranks every real clip against every blend, so it mixes two things:
    whether the model sees the blending (a clip's blend scores above the clip itself) and how far
    apart the scores of real clips from different sources lie. These figures separate the two.
    """
    reals = {s.clip_id: s.video_score for s in scores if not s.label}
    pairs = [
        (reals[s.clip_id.split("#")[0]], s.video_score)
        for s in scores
        if s.clip_id.endswith("#self_blend") and s.clip_id.split("#")[0] in reals
    ]
    if not pairs:
        return {}
    real, blended = np.array(pairs).T
    return {
        "pairs": len(pairs),
        "blend_above_own_real": float(np.mean(blended > real)),
        "mean_gain": float(np.mean(blended - real)),
        "real_score_std": float(np.std(list(reals.values()))),
    }


def build_subsets(
    scores: list[ClipScores],
    split_of: dict[str, str],
    split: str,
    seen_methods: tuple[str, ...] = SEEN_METHOD_PREFIXES,
) -> dict[str, list[ClipScores]]:
    """Named subsets of one split: every subset pairs the split's real clips with some of its fakes.
    Per-method subsets group a method's variants (all DeepFaceLive DFM models form one)."""

    def seen(method: str) -> bool:
        return is_seen_method(method, seen_methods)

    in_split = [s for s in scores if split_of.get(s.clip_id.split("#")[0]) == split]
    reals = [s for s in in_split if not s.label]
    provided = [s for s in in_split if s.label and not s.clip_id.endswith("#self_blend")]
    subsets = {
        f"{split}_all_provided": reals + provided,
        f"{split}_seen_methods": reals + [s for s in provided if seen(s.method)],
        f"{split}_unseen_methods": reals + [s for s in provided if not seen(s.method)],
        f"{split}_self_blend": reals + [s for s in in_split if s.clip_id.endswith("#self_blend")],
    }
    for family in sorted({method_family(s.method) for s in provided}):
        status = "seen" if seen(family) else "unseen"
        members = [s for s in provided if method_family(s.method) == family]
        subsets[f"{split}_method ({status}): {family}"] = reals + members
    return {name: members for name, members in subsets.items() if any(s.label for s in members)}


def plot_roc(subsets: dict[str, list[ClipScores]], path: Path, title: str) -> None:
    """Video-level ROC curves of the main subsets in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 6))
    for name, members in subsets.items():
        if "method: " in name:
            continue
        labels = np.array([s.label for s in members])
        fpr, tpr, _ = roc_curve(labels, np.array([s.video_score for s in members]))
        axis.plot(fpr, tpr, label=f"{name} (n={len(members)})")
    axis.plot([0, 1], [0, 1], linestyle=":", color="gray")
    axis.set_xlabel("false-positive rate (real clips called fake)")
    axis.set_ylabel("true-positive rate")
    axis.set_title(title)
    axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def evaluate(
    model_path: Path,
    cache: Path,
    splits: list[str],
    out_json: Path,
    out_png: Path,
    seen_methods: tuple[str, ...] | None = None,
) -> dict:
    """Scores the chosen splits, writes the JSON report and ROC PNG, returns the report. The split and
    the seen methods are the checkpoint's own unless ``seen_methods`` overrides them (to compare two
    checkpoints on one split)."""
    loaded = load_model(model_path)
    spec = loaded.spec
    seen = tuple(seen_methods or spec.metrics.get("seen_methods") or SEEN_METHOD_PREFIXES)
    entries = read_index(cache)
    split_of = assign_splits(entries, seed=int(spec.metrics.get("split_seed", 0)), seen_methods=seen)
    bank = load_bank(cache, {clip_id for clip_id, split in split_of.items() if split in splits})
    scores = score_bank(loaded, bank, self_blend_reals=True)
    subsets: dict[str, list[ClipScores]] = {}
    for split in splits:
        subsets.update(build_subsets(scores, split_of, split, seen))
    report = {
        "model": str(model_path),
        "threshold": spec.threshold,
        "temperature": spec.temperature,
        "window": spec.window,
        "seen_methods": list(seen),
        "video_score": "mean over windows of the max over faces (cache: largest face per frame)",
        "subsets": {name: subset_report(members, spec.threshold) for name, members in subsets.items()},
        "self_blend_pairs": {
            name: self_blend_pairs(members) for name, members in subsets.items() if name.endswith("_self_blend")
        },
        "clips": [
            {
                "clip_id": s.clip_id,
                "split": split_of.get(s.clip_id.split("#")[0]),
                "label": s.label,
                "method": s.method,
                "source": s.source,
                "video_score": round(s.video_score, 4),
            }
            for s in scores
        ],
    }
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(report, indent=2))
    plot_roc(
        {k: v for k, v in subsets.items() if k.startswith(splits[0])},
        out_png,
        f"{model_path.name}: video-level ROC, {splits[0]} split",
    )
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/checkpoints/detector.pt"))
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="crop cache from models.data.prepare")
    parser.add_argument("--splits", nargs="+", default=[TEST, VAL], choices=[TEST, VAL, "train"])
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default: <model>.eval.json)")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--seen-methods",
        default=None,
        help='"|"-separated method prefixes to treat as seen (default: those the checkpoint was trained on)',
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    out_json = args.out or args.model.with_suffix(".eval.json")
    seen = tuple(p.strip() for p in args.seen_methods.split("|") if p.strip()) if args.seen_methods else None
    report = evaluate(
        args.model, args.cache.expanduser(), args.splits, out_json, out_json.with_suffix(".roc.png"), seen
    )
    for name, figures in report["subsets"].items():
        video, frame = figures["video"], figures["frame"]
        print(
            f"{name:60s} clips={figures['clips']:3d} video AUC={video['auc']:.3f} FPR={video['fpr']:.2f} "
            f"TPR={video['tpr']:.2f} | frame AUC={frame['auc']:.3f}"
        )
    for name, pairs in report["self_blend_pairs"].items():
        if pairs:
            print(
                f"{name + ' pairs':60s} blend above its own real clip in {pairs['blend_above_own_real']:.0%} of "
                f"{pairs['pairs']}, by {pairs['mean_gain']:.3f} on average; real-clip score std "
                f"{pairs['real_score_std']:.3f}"
            )


if __name__ == "__main__":
    main()
