"""Attention pooling over the patch tokens against the CLS token alone, on the same clean crops and the same
training data (the probe's: reals against the collected fakes of the training split).

Both heads read the residual stream after block 12 (``training.token_features``) and are fitted by the same
trainer: class-balanced logistic loss, full batch, Adam, L2 on the weights from a grid chosen by validation
video AUC over all collected fakes. ``cls``: the L2-normalised CLS token -> linear. ``attention``: the same, beside
a learned attention pooling of the 196 patch tokens (each layer-normalised; one query vector; softmax over the
tokens; the pooled vector L2-normalised) -> linear. The query starts at zero, so the pooling starts as the plain
patch mean and learns where to look: a lip sync or a blend boundary changes a few dozen patches, which the CLS
token reads diluted. Clip score: the mean of its crops' logits. Reported: validation and test AUC over all
collected fakes and per family, stills, each collected family left out of training (scored on its fakes of every
split against the test reals), and the paired test difference of the two heads.

``--pairs``: both heads also learn from the aligned pairs' first round (``training.token_features --pairs``: every
synthetic fake beside the real window it was made from, every collected fake beside its real twin, both degraded
alike), with v3's ranking term of weight 1 setting each pair's fake window above its twin's (``training.logistic``),
where footage, codec and degradation cancel and only the edit is left to read. Everything else as above; the
figures are over clean clips only, as the comparison's are.

    python -m training.token_pooling [--crops DIR] [--out out/token_pooling.json]
    python -m training.token_pooling --pairs [--out out/token_pooling_pairs.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from models.clip.graph import parse_summaries
from training.data.crop_cache import default_cache
from training.data.splits import REAL_FAMILY, TEST, TRAIN, VAL
from training.feature_cache import FeatureCache, default_feature_root
from training.feature_data import ClipFeatures, load_features
from training.head_eval import MIN_FAKES_FOR_WORST
from training.metrics import paired_auc_difference, roc_auc
from training.pair_features import PROVIDED, pair_path, read_pair
from training.token_features import default_token_root, token_path

L2_GRID = (1e-4, 1e-3, 1e-2)
STEPS = 150
LEARNING_RATE = 0.01
WIDTH = 768
TWIN_WEIGHT = 1.0  # v3's weight of the ranking term, fixed before its first run


class PoolingHead(nn.Module):
    """(N, 197, 768) tokens -> (N,) logits: the CLS token, and with ``attention`` a learned pooling of the patches."""

    def __init__(self, attention: bool) -> None:
        super().__init__()
        self.attention = attention
        self.query = nn.Parameter(torch.zeros(WIDTH)) if attention else None
        self.linear = nn.Linear(WIDTH * (2 if attention else 1), 1)

    def pooling_weights(self, patches: torch.Tensor) -> torch.Tensor:
        """(N, 196, 768) layer-normalised patches -> (N, 196) weights summing to 1 per crop."""
        return torch.softmax(patches @ self.query, dim=1)

    def forward(self, cls: torch.Tensor, patches: torch.Tensor | None) -> torch.Tensor:
        # Unit vectors scaled to unit variance per entry, so one learning rate suits every head.
        parts = [functional.normalize(cls, dim=-1) * WIDTH**0.5]
        if self.attention:
            pooled = (self.pooling_weights(patches)[..., None] * patches).sum(dim=1)
            parts.append(functional.normalize(pooled, dim=-1) * WIDTH**0.5)
        return self.linear(torch.cat(parts, dim=-1)).squeeze(-1)


@dataclass(frozen=True)
class Crops:
    """Every cached crop of a set of units (clips or pair members), with the unit each belongs to."""

    cls: torch.Tensor  # (N, 768)
    patches: torch.Tensor  # (N, 196, 768), each token layer-normalised
    clip_index: np.ndarray  # (N,) position of the crop's unit in the unit list


@dataclass(frozen=True)
class Unit:
    """What a score is computed over: a clean clip as cut, or one member of an aligned pair."""

    name: str
    label: int  # 1: fake
    split: str
    family: str  # "real", a provided manipulation family, or the synthesis family of a synthetic fake
    kind: str  # "video" or "image"
    clean: bool  # False: a pair member, degraded alike beside its twin


def as_crops(token_arrays: Sequence[np.ndarray]) -> Crops:
    """(K, 197, 768) token arrays, one per unit, as one :class:`Crops`."""
    cls, patches, owner = [], [], []
    for index, array in enumerate(token_arrays):
        tokens = torch.from_numpy(array.astype(np.float32))
        cls.append(tokens[:, 0])
        patches.append(functional.layer_norm(tokens[:, 1:], (WIDTH,)))
        owner.append(np.full(len(tokens), index))
    return Crops(torch.cat(cls), torch.cat(patches), np.concatenate(owner))


def load_units(clips: Sequence[ClipFeatures], root: Path, pairs: bool) -> tuple[list[Unit], Crops, np.ndarray]:
    """The clean clips' units and crops, and with ``pairs`` both members of each clip's first-round pair; the
    twins as (M, 2) unit positions (fake, its real twin)."""
    units = [Unit(c.clip_id, c.label, c.split, c.family, c.kind, True) for c in clips]
    arrays = [np.load(token_path(root, c.clip_id)) for c in clips]
    twins = []
    for clip in clips if pairs else ():
        if not pair_path(root, clip.clip_id, 0).is_file():
            continue
        pair = read_pair(root, clip.clip_id, 0)
        family = clip.family if pair.family == PROVIDED else pair.family
        units.append(Unit(f"{clip.clip_id}.r0", 1, clip.split, family, clip.kind, False))
        arrays.append(pair.fake)
        if len(pair.real):
            units.append(Unit(f"{clip.clip_id}.r0#real", 0, clip.split, REAL_FAMILY, clip.kind, False))
            arrays.append(pair.real)
            twins.append((len(units) - 2, len(units) - 1))
    return units, as_crops(arrays), np.array(twins, dtype=int).reshape(-1, 2)


def unit_logits(logits: torch.Tensor, clip_index: np.ndarray, count: int | None = None) -> torch.Tensor:
    """Mean crop logit per unit, for ``count`` units (default: up to the last one with a crop; units without
    crops: 0). Differentiable: the ranking term trains through it."""
    index = torch.from_numpy(clip_index)
    count = int(clip_index.max()) + 1 if count is None else count
    sums = torch.zeros(count, dtype=logits.dtype).index_add(0, index, logits)
    return sums / torch.bincount(index, minlength=count).clamp(min=1)


def fit(
    crops: Crops,
    labels: np.ndarray,
    attention: bool,
    l2: float,
    seed: int = 0,
    twins: np.ndarray | None = None,
    twin_weight: float = 0.0,
) -> PoolingHead:
    """The head fitted on ``crops`` (labels per crop), class-balanced, full batch; with ``twins`` ((M, 2) unit
    positions of a fake and its real twin, both among ``crops``) and ``twin_weight``, plus that weight times
    the mean -log sigmoid of each fake's unit logit minus its twin's."""
    torch.manual_seed(seed)
    head = PoolingHead(attention)
    target = torch.from_numpy(labels.astype(np.float32))
    weight = torch.where(target > 0, 0.5 / target.sum(), 0.5 / (1 - target).sum())
    optimiser = torch.optim.Adam(head.parameters(), lr=LEARNING_RATE)
    patches = crops.patches if attention else None
    ranked = twins is not None and len(twins) > 0 and twin_weight > 0
    for _ in range(STEPS):
        optimiser.zero_grad()
        logits = head(crops.cls, patches)
        loss = (weight * functional.binary_cross_entropy_with_logits(logits, target, reduction="none")).sum()
        loss = loss + l2 * sum((p**2).sum() for name, p in head.named_parameters() if not name.endswith("bias"))
        if ranked:
            per_unit = unit_logits(logits, crops.clip_index)
            loss = loss + twin_weight * functional.softplus(-(per_unit[twins[:, 0]] - per_unit[twins[:, 1]])).mean()
        loss.backward()
        optimiser.step()
    return head.eval()


def clip_scores(head: PoolingHead, crops: Crops, count: int) -> np.ndarray:
    """Mean crop logit per clip (``count`` clips), summed in float64."""
    with torch.no_grad():
        logits = head(crops.cls, crops.patches if head.attention else None).double()
    return unit_logits(logits, crops.clip_index, count).numpy()


def subset(crops: Crops, keep: np.ndarray, patches: bool = True) -> Crops:
    """The crops of the units where ``keep`` (per unit) is true; without ``patches`` (a head that reads only the
    CLS token), their patch tokens are left out rather than copied."""
    mask = keep[crops.clip_index]
    kept_patches = crops.patches[torch.from_numpy(mask)] if patches else crops.patches[:0]
    return Crops(crops.cls[mask], kept_patches, crops.clip_index[mask])


def auc_of(scores: np.ndarray, fakes: np.ndarray, reals: np.ndarray) -> float:
    """Video AUC of the ``fakes`` units (mask) against the ``reals`` units (mask)."""
    chosen = fakes | reals
    return round(roc_auc(fakes[chosen].astype(int), scores[chosen]), 4)


def evaluate(units: Sequence[Unit], crops: Crops, attention: bool, twins: np.ndarray | None = None) -> dict:
    """The head fitted with each L2 of the grid, kept by validation AUC over all collected fakes; its figures
    on clean clips, and each collected family left out of training. ``twins``: rank each training pair's fake
    above its twin (weight :data:`TWIN_WEIGHT`)."""
    label = np.array([u.label for u in units])
    split = np.array([u.split for u in units])
    family = np.array([u.family for u in units])
    still = np.array([u.kind == "image" for u in units])
    clean = np.array([u.clean for u in units])
    crop_labels = label[crops.clip_index]
    twins = np.zeros((0, 2), int) if twins is None else twins

    def fitted(keep_fakes: np.ndarray, l2: float) -> np.ndarray:
        train = (split == TRAIN) & ((label == 0) | keep_fakes)
        ranked = twins[train[twins[:, 0]] & train[twins[:, 1]]]
        training = subset(crops, train, patches=attention)
        head = fit(training, crop_labels[train[crops.clip_index]], attention, l2, 0, ranked, TWIN_WEIGHT)
        return clip_scores(head, crops, len(units))

    everything = np.ones(len(units), bool)
    by_l2 = {l2: fitted(everything, l2) for l2 in L2_GRID}
    val_fakes, val_reals = (label == 1) & (split == VAL) & clean, (label == 0) & (split == VAL) & clean
    val_auc = {l2: auc_of(s, val_fakes, val_reals) for l2, s in by_l2.items()}
    l2 = max(L2_GRID, key=lambda value: val_auc[value])
    scores = by_l2[l2]
    row = {"l2": l2, "val_all_collected_by_l2": {str(k): v for k, v in val_auc.items()}}
    for name, where in (("val", VAL), ("test", TEST)):
        fakes, reals = (label == 1) & (split == where) & clean, (label == 0) & (split == where) & clean
        row[name] = {
            "all collected": auc_of(scores, fakes, reals),
            "stills": auc_of(scores, fakes & still, reals & still),
            **{f"provided: {f}": auc_of(scores, fakes & (family == f), reals) for f in sorted(set(family[fakes]))},
        }
    lofo = {}
    test_reals = (label == 0) & (split == TEST) & clean
    for left_out in sorted(set(family[(label == 1) & clean])):
        held_out = (label == 1) & (family == left_out) & clean
        if held_out.sum() < MIN_FAKES_FOR_WORST:
            continue
        lofo[left_out] = auc_of(fitted(family != left_out, l2), held_out, test_reals)
    row["lofo"] = lofo
    row["lofo_mean"] = round(float(np.mean(list(lofo.values()))), 4)
    row["scores"] = scores
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache())
    parser.add_argument("--tokens", type=Path, default=None)
    parser.add_argument("--pairs", action="store_true", help="the first-round pairs train too, with the twin ranking")
    parser.add_argument("--out", type=Path, default=None, help="default: out/token_pooling[_pairs].json")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    root = args.tokens or default_token_root()
    out = args.out or Path("out/token_pooling_pairs.json" if args.pairs else "out/token_pooling.json")
    clips = load_features(args.crops.expanduser(), FeatureCache(default_feature_root(224)), parse_summaries("cls12"))
    clips = [c for c in clips if token_path(root, c.clip_id).is_file()]
    if not clips:
        sys.exit(f"error: no token features under {root} (run python -m training.token_features first)")
    units, crops, twins = load_units(clips, root, args.pairs)
    if args.pairs and not len(twins):
        sys.exit(f"error: no pair tokens under {root} (run python -m training.token_features --pairs first)")
    print(f"{len(units)} units ({len(clips)} clips), {len(crops.cls)} crops, {len(twins)} twins", file=sys.stderr)
    heads = {}
    for name, attention in (("cls", False), ("attention", True)):
        heads[name] = evaluate(units, crops, attention, twins)
        print(json.dumps({name: {k: v for k, v in heads[name].items() if k != "scores"}}), file=sys.stderr, flush=True)
    label = np.array([u.label for u in units])
    test = np.array([u.split == TEST and u.clean for u in units])
    paired = paired_auc_difference(label[test], heads["attention"]["scores"][test], heads["cls"]["scores"][test])
    report = {
        "clips": len(clips),
        "units": len(units),
        "crops": len(crops.cls),
        "twins": len(twins),
        "heads": {name: {k: v for k, v in row.items() if k != "scores"} for name, row in heads.items()},
        "test_all_collected_attention_minus_cls": {k: round(v, 4) for k, v in paired.items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
