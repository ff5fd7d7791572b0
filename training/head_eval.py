"""Scores of cached windows under a head, and the figures every comparison reads: video AUC per provided
family (clean clips), per synthetic family (pairs degraded alike), of stills, overall and the worst family."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from training.data.splits import REAL_FAMILY
from training.evaluate import bootstrap_auc
from training.metrics import roc_auc
from training.samples import CLEAN, PAIR, Window

MIN_FAKES_FOR_WORST = 3  # a provided family counts towards "worst family" with at least this many fakes


@dataclass(frozen=True)
class Scored:
    window: Window
    logit: float  # mean of its crops' logits


def score_windows(windows: Sequence[Window], crop_scores: np.ndarray) -> list[Scored]:
    """Window logits from per-crop logits laid out window after window, crops in order."""
    scored, position = [], 0
    for window in windows:
        count = len(window.features)
        scored.append(Scored(window, float(crop_scores[position : position + count].mean())))
        position += count
    return scored


def auc_row(fakes: list[float], reals: list[float], with_ci: bool = False) -> dict:
    labels = np.r_[np.zeros(len(reals)), np.ones(len(fakes))]
    scores = np.r_[reals, fakes]
    row = {"fakes": len(fakes), "reals": len(reals), "video_auc": round(roc_auc(labels, scores), 4)}
    if with_ci:
        low, high = bootstrap_auc(labels, scores)
        row["video_auc_ci95"] = [round(low, 3), round(high, 3)]
    return row


def family_figures(scored: Sequence[Scored], split: str, with_ci: bool = False) -> dict[str, dict]:
    """``{"provided: <family>": row, "synthetic: <family>": row, "stills": row, "all provided": row}``
    for one split; every row compares the family's fake units with the split's real units of the same origin."""
    in_split = [s for s in scored if s.window.split == split]
    clean = [s for s in in_split if s.window.origin == CLEAN]
    pairs = [s for s in in_split if s.window.origin == PAIR]
    clean_reals = [s.logit for s in clean if s.window.label == 0]
    pair_reals = [s.logit for s in pairs if s.window.label == 0]
    rows: dict[str, dict] = {}
    provided = [s for s in clean if s.window.label == 1]
    if provided and clean_reals:
        rows["all provided"] = auc_row([s.logit for s in provided], clean_reals, with_ci)
    by_family: dict[str, list[float]] = defaultdict(list)
    for s in provided:
        by_family[s.window.family].append(s.logit)
    for family, fakes in sorted(by_family.items()):
        rows[f"provided: {family}"] = auc_row(fakes, clean_reals, with_ci)
    synthetic: dict[str, list[float]] = defaultdict(list)
    for s in pairs:
        if s.window.synthetic:
            synthetic[s.window.family].append(s.logit)
    for family, fakes in sorted(synthetic.items()):
        if pair_reals:
            rows[f"synthetic: {family}"] = auc_row(fakes, pair_reals, with_ci)
    still_fakes = [s.logit for s in provided if s.window.kind == "image"]
    still_reals = [s.logit for s in clean if s.window.label == 0 and s.window.kind == "image"]
    if still_fakes and still_reals:
        rows["stills"] = auc_row(still_fakes, still_reals, with_ci)
    return rows


def worst_family(rows: dict[str, dict]) -> tuple[str, float]:
    """The lowest video AUC among synthetic families and provided families with enough fakes to tell."""
    candidates = {
        name: row["video_auc"]
        for name, row in rows.items()
        if name.startswith("synthetic: ") or (name.startswith("provided: ") and row["fakes"] >= MIN_FAKES_FOR_WORST)
    }
    name = min(candidates, key=candidates.get)
    return name, candidates[name]


def summary(rows: dict[str, dict]) -> dict:
    """The comparison's three numbers: all provided, mean over synthetic families, worst family."""
    synthetic = [row["video_auc"] for name, row in rows.items() if name.startswith("synthetic: ")]
    worst_name, worst = worst_family(rows)
    return {
        "all_provided": rows["all provided"]["video_auc"],
        "synthetic_mean": round(float(np.mean(synthetic)), 4) if synthetic else None,
        "worst": worst,
        "worst_family": worst_name,
        "stills": rows["stills"]["video_auc"] if "stills" in rows else None,
    }


def is_real(window: Window) -> bool:
    return window.family == REAL_FAMILY
