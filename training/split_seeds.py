"""v3's recipe against the plain probe's over several cuts of the data: both refitted on each split seed's
training part (L2 by its validation part, as ``training.compare_heads`` fits them) and scored on its test part,
paired on the same clips.

One cut's test part holds ~36 collected fakes, where AUC differences under ~0.05 are noise in either direction,
and which fakes land there moves the figures as much as the head does. Each split seed cuts the units (person,
footage) anew (``training.data.splits``), so over K seeds every collected fake is scored ~0.3 K times, each
time by heads that never trained on its person or footage. The seeds' training parts overlap, so their
differences are not independent: the interval on their mean is the corrected resampled t interval (Nadeau and
Bengio, 2003: the variance grows by the test-to-training ratio), not the naive one.

The cached synthetic pairs stay as they are: the autoencoder bank that renders some of them learned from the
training reals of split seed 0, which other seeds may test on. The collected fakes' figures (all collected,
per family, stills, leave-one-family-out) do not involve the bank; the synthetic mean does, slightly.

    python -m training.split_seeds [--seeds 10] [--out out/split_seeds.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import stats

from training.against_probe import PROBE, comparison
from training.compare_heads import (
    HeadConfig,
    HeadResult,
    evaluate_head,
    leave_one_family_out,
    lofo_mean,
    run_config,
)
from training.data.crop_cache import default_cache, read_index
from training.data.splits import TEST, TRAIN, assign_splits
from training.feature_cache import FeatureCache, default_feature_root
from training.head_eval import Scored, summary
from training.pair_features import ROUNDS
from training.samples import CLEAN, Window, load_windows, resplit
from training.train_v3 import V3, Calibrated, clean_test_units, fit_and_calibrate

HEADS = {"v3": V3, "probe": PROBE}


def head_on_split(
    windows: Sequence[Window], config: HeadConfig, result: HeadResult | None = None
) -> tuple[dict, list[Scored]]:
    """One recipe on one cut (fitted here unless ``result`` holds its fit): its test figures, leave-one-family-out
    mean, and its scores of every val/test window."""
    result = result or run_config(windows, config)
    _, test, scored = evaluate_head(windows, config, result.experts)
    figures = {
        "l2": result.l2,
        **summary(test),
        "families": {name: row["video_auc"] for name, row in test.items() if name.startswith("provided: ")},
        "lofo_mean": lofo_mean(leave_one_family_out(windows, config, result.l2)),
    }
    return figures, scored


def split_row(windows: Sequence[Window], split_seed: int) -> dict:
    """Both recipes on one cut, and the paired difference of their test AUCs over all collected fakes."""
    heads, scores = {}, {}
    # v3 as train_v3 ships it: calibrated on the cut's validation clips, its threshold read on the test clips.
    calibrated = fit_and_calibrate(list(windows), HEADS["v3"])
    for name, config in HEADS.items():
        heads[name], scores[name] = head_on_split(windows, config, calibrated.result if name == "v3" else None)
    heads["v3"]["at_threshold"] = threshold_figures(calibrated)
    clean = [w for w in windows if w.origin == CLEAN]
    return {
        "split_seed": split_seed,
        "train_clips": sum(w.split == TRAIN for w in clean),
        "test_clips": sum(w.split == TEST for w in clean),
        **heads,
        "v3_minus_probe": comparison(scores["v3"], scores["probe"], TEST, stills_only=False),
    }


def threshold_figures(calibrated: Calibrated) -> dict:
    """The calibrated head's threshold and what it flags among the test clips as cut: real clips (false
    positives) and collected fakes (true positives)."""
    units = clean_test_units(calibrated.scored, calibrated.video_p)
    reals = np.array([p for w, p in units if w.label == 0])
    fakes = np.array([p for w, p in units if w.label == 1])
    return {
        "threshold": round(calibrated.threshold, 4),
        "val_real_clip_fpr": calibrated.calibration["val_real_clip_fpr"],
        "test_real_clip_fpr": round(float(np.mean(reals >= calibrated.threshold)), 4),
        "test_fake_clip_tpr": round(float(np.mean(fakes >= calibrated.threshold)), 4),
    }


def corrected_interval(differences: Sequence[float], test_to_train: float) -> tuple[float, float]:
    """95% interval on the mean of per-split differences whose training parts overlap (Nadeau and Bengio's
    corrected resampled t: variance x (1/K + n_test/n_train) instead of 1/K)."""
    values = np.asarray(differences, dtype=np.float64)
    k = len(values)
    if k < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.975, k - 1) * np.sqrt((1 / k + test_to_train) * values.var(ddof=1))
    return float(values.mean() - half), float(values.mean() + half)


def overview(rows: Sequence[dict]) -> dict:
    """Means over the cuts, per recipe; the difference in AUC over all collected fakes per cut, its corrected
    interval and how many cuts each recipe wins."""

    def mean(values) -> float | None:
        present = [value for value in values if value is not None]  # a cut may hold no still of a class
        return round(float(np.mean(present)), 4) if present else None

    differences = [row["v3_minus_probe"]["difference"] for row in rows]
    test_to_train = float(np.mean([row["test_clips"] / row["train_clips"] for row in rows]))
    low, high = corrected_interval(differences, test_to_train)
    per_head = {}
    for name in HEADS:
        overall = [row[name]["all_provided"] for row in rows]
        families = sorted({family for row in rows for family in row[name]["families"]})
        per_head[name] = {
            "all_provided": mean(overall),
            "all_provided_range": [min(overall), max(overall)],
            "lofo_mean": mean(row[name]["lofo_mean"] for row in rows),
            "stills": mean(row[name]["stills"] for row in rows),
            "synthetic_mean": mean(row[name]["synthetic_mean"] for row in rows),
            "families": {
                family: mean(row[name]["families"][family] for row in rows if family in row[name]["families"])
                for family in families
            },
        }
    at_threshold = [row["v3"]["at_threshold"] for row in rows]
    per_head["v3"]["at_threshold"] = {
        key: {"mean": mean(row[key] for row in at_threshold), "max": max(row[key] for row in at_threshold)}
        for key in ("test_real_clip_fpr", "test_fake_clip_tpr", "threshold")
    }
    return {
        "splits": len(rows),
        **per_head,
        "all_provided_difference": {
            "mean": round(float(np.mean(differences)), 4),
            "sd": round(float(np.std(differences, ddof=1)), 4) if len(rows) > 1 else None,
            "ci95_corrected": [round(low, 4), round(high, 4)],
            "v3_better": sum(d > 0 for d in differences),
            "probe_better": sum(d < 0 for d in differences),
        },
        "lofo_difference_mean": mean(row["v3"]["lofo_mean"] - row["probe"]["lofo_mean"] for row in rows),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache())
    parser.add_argument("--features", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seeds", type=int, default=10, help="split seeds 0 .. N-1 (0 is the shipped cut)")
    parser.add_argument("--out", type=Path, default=Path("out/split_seeds.json"))
    args = parser.parse_args(argv)
    if args.seeds < 2:
        sys.exit("error: --seeds needs at least 2 cuts to compare")
    features = FeatureCache(args.features or default_feature_root(224))
    crops = args.crops.expanduser()
    windows = load_windows(crops, features, args.rounds)
    if not windows:
        sys.exit(f"error: no cached CLIP features under {args.crops} (run `make train` first)")
    entries = read_index(crops)
    rows = []
    for split_seed in range(args.seeds):
        row = split_row(resplit(windows, assign_splits(entries, seed=split_seed)), split_seed)
        print(json.dumps({k: row[k] for k in ("split_seed", "v3_minus_probe")}), file=sys.stderr, flush=True)
        rows.append(row)
    report = {
        "recipes": {name: config.name for name, config in HEADS.items()},
        "measure": "per split seed: both recipes refitted on its training part (L2 by its validation part) and "
        "scored on its test part (mean crop logit per clip); differences are v3 minus probe",
        "overview": overview(rows),
        "per_split": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report["overview"]))


if __name__ == "__main__":
    main()
