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

    python -m training.token_pooling [--crops DIR] [--out out/token_pooling.json]
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
from training.data.splits import TEST, TRAIN, VAL
from training.feature_cache import FeatureCache, default_feature_root
from training.feature_data import ClipFeatures, load_features
from training.head_eval import MIN_FAKES_FOR_WORST
from training.metrics import paired_auc_difference, roc_auc
from training.token_features import default_token_root, token_path

L2_GRID = (1e-4, 1e-3, 1e-2)
STEPS = 150
LEARNING_RATE = 0.01
WIDTH = 768


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
    """Every cached crop of a set of clips, with the clip each belongs to."""

    cls: torch.Tensor  # (N, 768)
    patches: torch.Tensor  # (N, 196, 768), each token layer-normalised
    clip_index: np.ndarray  # (N,) position of the crop's clip in the clip list


def load_crops(clips: Sequence[ClipFeatures], root: Path) -> Crops:
    cls, patches, owner = [], [], []
    for index, clip in enumerate(clips):
        tokens = torch.from_numpy(np.load(token_path(root, clip.clip_id)).astype(np.float32))
        cls.append(tokens[:, 0])
        patches.append(functional.layer_norm(tokens[:, 1:], (WIDTH,)))
        owner.append(np.full(len(tokens), index))
    return Crops(torch.cat(cls), torch.cat(patches), np.concatenate(owner))


def fit(crops: Crops, labels: np.ndarray, attention: bool, l2: float, seed: int = 0) -> PoolingHead:
    """The head fitted on ``crops`` (labels per crop), class-balanced, full batch."""
    torch.manual_seed(seed)
    head = PoolingHead(attention)
    target = torch.from_numpy(labels.astype(np.float32))
    weight = torch.where(target > 0, 0.5 / target.sum(), 0.5 / (1 - target).sum())
    optimiser = torch.optim.Adam(head.parameters(), lr=LEARNING_RATE)
    patches = crops.patches if attention else None
    for _ in range(STEPS):
        optimiser.zero_grad()
        logits = head(crops.cls, patches)
        loss = (weight * functional.binary_cross_entropy_with_logits(logits, target, reduction="none")).sum()
        loss = loss + l2 * sum((p**2).sum() for name, p in head.named_parameters() if not name.endswith("bias"))
        loss.backward()
        optimiser.step()
    return head.eval()


def clip_scores(head: PoolingHead, crops: Crops, count: int) -> np.ndarray:
    """Mean crop logit per clip (``count`` clips)."""
    with torch.no_grad():
        logits = head(crops.cls, crops.patches if head.attention else None).numpy()
    sums = np.bincount(crops.clip_index, weights=logits, minlength=count)
    return sums / np.bincount(crops.clip_index, minlength=count)


def subset(crops: Crops, keep: np.ndarray) -> Crops:
    """The crops of the clips where ``keep`` (per clip) is true."""
    mask = keep[crops.clip_index]
    return Crops(crops.cls[mask], crops.patches[mask], crops.clip_index[mask])


def auc_of(clips: Sequence[ClipFeatures], scores: np.ndarray, fakes: np.ndarray, reals: np.ndarray) -> float:
    """Video AUC of the ``fakes`` clips (mask) against the ``reals`` clips (mask)."""
    chosen = fakes | reals
    return round(roc_auc(fakes[chosen].astype(int), scores[chosen]), 4)


def evaluate(clips: Sequence[ClipFeatures], crops: Crops, attention: bool) -> dict:
    label = np.array([c.label for c in clips])
    split = np.array([c.split for c in clips])
    family = np.array([c.family for c in clips])
    still = np.array([c.kind == "image" for c in clips])
    crop_labels = label[crops.clip_index]

    def fitted(keep_fakes: np.ndarray, l2: float) -> np.ndarray:
        train = (split == TRAIN) & ((label == 0) | keep_fakes)
        head = fit(subset(crops, train), crop_labels[train[crops.clip_index]], attention, l2)
        return clip_scores(head, crops, len(clips))

    everything = np.ones(len(clips), bool)
    by_l2 = {l2: fitted(everything, l2) for l2 in L2_GRID}
    val_auc = {
        l2: auc_of(clips, s, (label == 1) & (split == VAL), (label == 0) & (split == VAL)) for l2, s in by_l2.items()
    }
    l2 = max(L2_GRID, key=lambda value: val_auc[value])
    scores = by_l2[l2]
    row = {"l2": l2, "val_all_collected_by_l2": {str(k): v for k, v in val_auc.items()}}
    for name, where in (("val", VAL), ("test", TEST)):
        fakes, reals = (label == 1) & (split == where), (label == 0) & (split == where)
        row[name] = {
            "all collected": auc_of(clips, scores, fakes, reals),
            "stills": auc_of(clips, scores, fakes & still, reals & still),
            **{
                f"provided: {f}": auc_of(clips, scores, fakes & (family == f), reals)
                for f in sorted(set(family[fakes]))
            },
        }
    lofo = {}
    for left_out in sorted(set(family[label == 1])):
        held_out = (label == 1) & (family == left_out)
        if held_out.sum() < MIN_FAKES_FOR_WORST:
            continue
        held_scores = fitted(family != left_out, l2)
        lofo[left_out] = auc_of(clips, held_scores, held_out, (label == 0) & (split == TEST))
    row["lofo"] = lofo
    row["lofo_mean"] = round(float(np.mean(list(lofo.values()))), 4)
    row["scores"] = scores
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache())
    parser.add_argument("--tokens", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("out/token_pooling.json"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    root = args.tokens or default_token_root()
    clips = load_features(args.crops.expanduser(), FeatureCache(default_feature_root(224)), parse_summaries("cls12"))
    clips = [c for c in clips if token_path(root, c.clip_id).is_file()]
    if not clips:
        sys.exit(f"error: no token features under {root} (run python -m training.token_features first)")
    crops = load_crops(clips, root)
    print(f"{len(clips)} clips, {len(crops.cls)} crops", file=sys.stderr, flush=True)
    heads = {}
    for name, attention in (("cls", False), ("attention", True)):
        heads[name] = evaluate(clips, crops, attention)
        print(json.dumps({name: {k: v for k, v in heads[name].items() if k != "scores"}}), file=sys.stderr, flush=True)
    label = np.array([c.label for c in clips])
    test = np.array([c.split == TEST for c in clips])
    paired = paired_auc_difference(label[test], heads["attention"]["scores"][test], heads["cls"]["scores"][test])
    report = {
        "clips": len(clips),
        "crops": len(crops.cls),
        "heads": {name: {k: v for k, v in row.items() if k != "scores"} for name, row in heads.items()},
        "test_all_collected_attention_minus_cls": {k: round(v, 4) for k, v in paired.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
