"""Every cached CLIP reading of the data set as labelled windows: the clean crops of every clip, and the
aligned pairs (a real window beside its synthetic or provided fake, both degraded alike).

A :class:`Window` is what a head scores: T crops of one clip (or of one fake made from a clip) with its
label, split, family and where it came from. Heads train on crops of training windows, are chosen and
calibrated on validation windows, and evaluated on test windows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from models.clip.graph import TokenSummary
from training.data.crop_cache import read_index
from training.data.splits import REAL_FAMILY, assign_splits, manipulation_family, method_name
from training.feature_cache import SUMMARY_ROWS, FeatureCache
from training.pair_features import PROVIDED, TARGETED, TARGETED_ROUNDS, pair_path, read_pair

CLEAN, PAIR = "clean", "pair"


@dataclass(frozen=True)
class Window:
    """T crops' readings of one clip, or of one fake made from one."""

    unit: str  # what a video score is computed over: the clip id, or "<clip>.r<round>" for a pair member
    clip_id: str  # the cached clip it comes from (the real one for synthetic fakes)
    label: int  # 1: fake
    split: str
    family: str  # "real", a provided manipulation family, or a synthesis family
    method: str  # the provided method, "synthetic: <family>" or "none"
    kind: str  # "video" or "image"
    origin: str  # CLEAN (as cut) or PAIR (degraded alike beside its twin)
    synthetic: bool  # made by a synthesis family from a real clip
    features: np.ndarray  # (T, 48, 768) float16: every summary; :meth:`select` picks a head's
    source: str = ""
    pair_set: str = ""  # for a pair of a family outside the rotation: that family (its own pair set)

    def select(self, summaries: Sequence[TokenSummary]) -> np.ndarray:
        rows = [SUMMARY_ROWS[summary.label] for summary in summaries]
        return self.features[:, rows].astype(np.float32).reshape(len(self.features), -1)


def load_windows(crop_cache: Path, features: FeatureCache, rounds: int, split_seed: int = 0) -> list[Window]:
    """Clean windows of every clip (its 8 cached crops) and both members of every cached pair: ``rounds``
    of the rotation, and the pair sets of the families outside it (a head trains on those only when its
    configuration names them)."""
    entries = read_index(crop_cache)
    split_of = assign_splits(entries, seed=split_seed)
    windows: list[Window] = []
    for entry in entries:
        clip_id, split = entry["clip_id"], split_of[entry["clip_id"]]
        label = int(entry["label"] == "fake")
        family = manipulation_family(entry["method"])
        if features.has(CLEAN, clip_id):
            cached = features.read(CLEAN, clip_id)
            windows.append(
                Window(
                    clip_id,
                    clip_id,
                    label,
                    split,
                    family,
                    method_name(entry["method"]),
                    entry["kind"],
                    CLEAN,
                    False,
                    cached.features,
                    entry["source"],
                )
            )
        sets = [("", round_number) for round_number in range(rounds)]
        sets += [(family, round_number) for family in TARGETED for round_number in range(TARGETED_ROUNDS)]
        for targeted, round_number in sets:
            if pair_path(features.root, clip_id, round_number, targeted).is_file():
                pair = read_pair(features.root, clip_id, round_number, targeted)
                windows.extend(pair_windows(entry, split, round_number, pair, targeted))
    return windows


def resplit(windows: Sequence[Window], split_of: dict[str, str]) -> list[Window]:
    """The same windows under another assignment of clips to splits (``training.data.splits``). A window follows
    the clip it was read from: a synthetic pair its real clip, a provided fake's twin its own clip, which shares
    the fake's footage group and so its split under any assignment."""
    return [replace(window, split=split_of[window.clip_id]) for window in windows]


def pair_windows(entry: dict, split: str, round_number: int, pair, targeted: str = "") -> Iterable[Window]:
    unit = f"{entry['clip_id']}." + (f"{targeted}." if targeted else "") + f"r{round_number}"
    kind, source = entry["kind"], entry["source"]
    if pair.family == PROVIDED:
        family, method = manipulation_family(entry["method"]), method_name(entry["method"])
        yield Window(unit, entry["clip_id"], 1, split, family, method, kind, PAIR, False, pair.fake, source)
        if len(pair.real):
            yield Window(unit + "#twin", pair.twin, 0, split, REAL_FAMILY, "none", kind, PAIR, False, pair.real, source)
        return
    yield Window(unit + "#real", entry["clip_id"], 0, split, REAL_FAMILY, "none", kind, PAIR, False, pair.real, source,
                 targeted)  # fmt: skip
    yield Window(unit, entry["clip_id"], 1, split, pair.family, f"synthetic: {pair.family}", kind, PAIR, True,
                 pair.fake, source, targeted)  # fmt: skip
