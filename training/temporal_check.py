"""Does a temporal head over a window of crop readings beat the mean of its crops' scores? Measured on the
aligned pairs (4 consecutive frames, fake and real degraded alike), where the temporal synthesis families
(one-shot warps, frozen background, flicker, interpolated frames) differ from their real twin over time.

    python -m training.temporal_check

Both heads are class-balanced logistic regressions on the training pairs over the same L2-normalised
readings (blocks 6, 9, 12): the mean head scores each crop and averages; the temporal head reads the
window's mean reading and its mean absolute step between consecutive crops. Printed: validation and test
video AUC per temporal family and over every synthetic family, for both (JSON).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.clip.graph import parse_summaries
from training.data.crop_cache import default_cache
from training.data.families import FAMILIES
from training.data.splits import TEST, TRAIN, VAL
from training.experts import normalized
from training.feature_cache import FeatureCache, default_feature_root
from training.logistic import fit_logistic
from training.metrics import roc_auc
from training.pair_features import ROUNDS
from training.samples import PAIR, Window, load_windows

SUMMARIES = "cls6,cls9,cls12"
L2 = 1e-4
TEMPORAL = tuple(name for name, family in FAMILIES.items() if family.temporal)


def window_readings(windows: Sequence[Window]) -> list[np.ndarray]:
    summaries = parse_summaries(SUMMARIES)
    return [normalized([window], summaries) for window in windows]


def temporal_vector(readings: np.ndarray) -> np.ndarray:
    """The window's mean reading and its mean absolute step between consecutive crops."""
    steps = np.abs(np.diff(readings, axis=0)).mean(axis=0) if len(readings) > 1 else np.zeros(readings.shape[1])
    return np.concatenate([readings.mean(axis=0), steps]).astype(np.float32)


def aucs(windows: Sequence[Window], scores: np.ndarray, split: str) -> dict[str, float]:
    in_split = [i for i, w in enumerate(windows) if w.split == split]
    reals = np.array([scores[i] for i in in_split if windows[i].label == 0])
    figures = {}
    families = sorted({windows[i].family for i in in_split if windows[i].synthetic})
    for family in families:
        fakes = np.array([scores[i] for i in in_split if windows[i].label == 1 and windows[i].family == family])
        labels = np.r_[np.zeros(len(reals)), np.ones(len(fakes))]
        figures[family] = round(roc_auc(labels, np.r_[reals, fakes]), 4)
    figures["temporal families, mean"] = round(float(np.mean([figures[f] for f in TEMPORAL if f in figures])), 4)
    figures["all synthetic families, mean"] = round(float(np.mean([figures[f] for f in families])), 4)
    return figures


def compare(windows: Sequence[Window]) -> dict:
    pairs = [w for w in windows if w.origin == PAIR and (w.synthetic or w.label == 0)]
    readings = window_readings(pairs)
    train = [i for i, w in enumerate(pairs) if w.split == TRAIN]
    labels = np.array([pairs[i].label for i in train])
    crop_x = np.concatenate([readings[i] for i in train])
    crop_y = np.concatenate([np.full(len(readings[i]), pairs[i].label) for i in train])
    crop_w, crop_b = fit_logistic(crop_x, crop_y, L2)
    mean_scores = np.array([float((r @ crop_w + crop_b).mean()) for r in readings])
    vectors = np.stack([temporal_vector(r) for r in readings])
    window_w, window_b = fit_logistic(vectors[train], labels, L2)
    temporal_scores = vectors @ window_w + window_b
    return {
        split: {
            "mean of crop scores": aucs(pairs, mean_scores, split),
            "temporal head": aucs(pairs, temporal_scores, split),
        }
        for split in (VAL, TEST)
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache())
    parser.add_argument("--features", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    features = FeatureCache(args.features or default_feature_root(224))
    windows = load_windows(args.crops.expanduser(), features, args.rounds)
    print(json.dumps(compare(windows), indent=1))


if __name__ == "__main__":
    main()
