"""Cached CLIP features of every clip, with the labels and splits that training and evaluation need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.clip.graph import TokenSummary
from training.data.crop_cache import read_index
from training.data.splits import assign_splits, manipulation_family
from training.feature_cache import FeatureCache


@dataclass(frozen=True)
class ClipFeatures:
    """One clip's cached crops as a head reads them."""

    clip_id: str
    label: int  # 1: fake
    method: str
    family: str  # manipulation family ("real" for reals), or the synthesis family of a synthesized fake
    source: str
    kind: str  # "video" or "image"
    split: str
    features: np.ndarray  # (K, D) float32: the head's summaries of K crops, in frame order
    group: str = ""  # the real clip a synthesized fake was made from (its clip id), else ""


def load_features(
    crop_cache: Path,
    features: FeatureCache,
    summaries: Sequence[TokenSummary],
    variant: str = "clean",
    split_seed: int = 0,
) -> list[ClipFeatures]:
    """Every clip of the crop cache that has features in ``variant``, with its label, family and split."""
    entries = read_index(crop_cache)
    split_of = assign_splits(entries, seed=split_seed)
    clips = []
    for entry in entries:
        if not features.has(variant, entry["clip_id"]):
            continue
        cached = features.read(variant, entry["clip_id"])
        clips.append(
            ClipFeatures(
                clip_id=entry["clip_id"],
                label=int(entry["label"] == "fake"),
                method=entry["method"],
                family=manipulation_family(entry["method"]),
                source=entry["source"],
                kind=entry["kind"],
                split=split_of[entry["clip_id"]],
                features=cached.select(summaries),
            )
        )
    return clips


def window_positions(count: int, window: int) -> list[np.ndarray]:
    """Windows of ``window`` consecutive cached crops (sliding by one); a clip with fewer crops is one window."""
    if count <= window:
        return [np.arange(count)]
    return [np.arange(start, start + window) for start in range(count - window + 1)]
