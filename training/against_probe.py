"""The shipped head against the plain probe on the same clips: the difference of their video AUCs with a paired
bootstrap interval, per split, over all collected fakes and over stills.

Both heads are fitted as ``training.compare_heads`` fits them (the probe: its first candidate; v3: the config of
``training.train_v3``, L2 from the same grid by validation AUC) and score the same clean clips (mean crop logit per
clip, before calibration, as the comparison's columns). Separate intervals of two AUCs on ~36 test fakes overlap
for almost any two heads; the paired difference says whether one ranks the same clips better.

    python -m training.against_probe [--crops DIR] [--out out/against_probe.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.compare_heads import CANDIDATES, HeadConfig, evaluate_head, run_config
from training.data.crop_cache import default_cache
from training.data.splits import TEST, VAL
from training.feature_cache import FeatureCache, default_feature_root
from training.head_eval import Scored
from training.metrics import paired_auc_difference
from training.pair_features import ROUNDS
from training.samples import CLEAN, Window, load_windows
from training.train_v3 import V3

PROBE = CANDIDATES[0]


def clean_scores(windows: Sequence[Window], config: HeadConfig) -> tuple[float, list[Scored]]:
    """The head fitted (L2 chosen on validation) and its scores of every validation and test window."""
    result = run_config(windows, config)
    _, _, scored = evaluate_head(windows, config, result.experts)
    return result.l2, scored


def comparison(shipped: Sequence[Scored], probe: Sequence[Scored], split: str, stills_only: bool) -> dict:
    """Paired AUC difference (shipped minus probe) over the split's clean collected fakes against its clean
    reals (stills: still fakes against still reals)."""
    rows = [
        (a.window.label, a.logit, b.logit)
        for a, b in zip(shipped, probe, strict=True)
        if a.window.split == split and a.window.origin == CLEAN and (not stills_only or a.window.kind == "image")
    ]
    labels, a_scores, b_scores = (np.array(column) for column in zip(*rows, strict=True))
    result = paired_auc_difference(labels, a_scores, b_scores)
    return {
        "fakes": int(labels.sum()),
        "reals": int(len(labels) - labels.sum()),
        **{key: round(value, 4) for key, value in result.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache())
    parser.add_argument("--features", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--out", type=Path, default=Path("out/against_probe.json"))
    args = parser.parse_args(argv)
    features = FeatureCache(args.features or default_feature_root(224))
    windows = load_windows(args.crops.expanduser(), features, args.rounds)
    if not windows:
        sys.exit(f"error: no cached CLIP features under {args.crops} (run `make train` first)")
    shipped_l2, shipped = clean_scores(windows, V3)
    probe_l2, probe = clean_scores(windows, PROBE)
    if [s.window.unit for s in shipped] != [s.window.unit for s in probe]:
        raise AssertionError("the two heads scored different windows")  # both score every val/test window in order
    report = {
        "shipped": V3.name,
        "shipped_l2": shipped_l2,
        "probe": PROBE.name,
        "probe_l2": probe_l2,
        "measure": "video AUC of the mean crop logit per clip, shipped minus probe; 95% interval and the share of "
        "2,000 paired resamples (fakes and reals drawn with replacement, the same draw for both) where the shipped "
        "head ranks better",
        "splits": {
            split: {
                "all collected": comparison(shipped, probe, split, stills_only=False),
                "stills": comparison(shipped, probe, split, stills_only=True),
            }
            for split in (VAL, TEST)
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
