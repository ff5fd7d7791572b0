"""The head comparison's choice checked on re-cuts of the development data: the project's test clips stay out,
the other clips are cut anew into training and validation parts (``training.data.splits.development_splits``;
cut 0 is the project's own cut), and every candidate of ``training.compare_heads`` is fitted on each cut's
training part and scored by its selection score on that cut's validation part. Candidates are ranked by their
mean selection score over the cuts.

One validation part holds ~40 collected fakes: a selection score moves by a few hundredths with the clips drawn
into it, as much as candidates differ. Over several cuts every development fake is scored as validation several
times, so the mean ranks candidates with less of that noise, and no test clip takes part.

    python -m training.development_cuts [--cuts 10] [--out out/development_cuts.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.compare_heads import CANDIDATES, HeadConfig, run_config, selection_score, validation_lofo
from training.data.crop_cache import default_cache, read_index
from training.data.splits import TEST, development_splits
from training.feature_cache import FeatureCache, default_feature_root
from training.pair_features import ROUNDS
from training.samples import Window, load_windows, resplit


def cut_scores(windows: Sequence[Window], candidates: Sequence[HeadConfig]) -> list[dict]:
    """Each candidate on one cut: L2 by validation AUC over all collected fakes, then its selection score."""
    rows = []
    for config in candidates:
        result = run_config(windows, config)
        lofo = validation_lofo(windows, config, result.l2)
        rows.append(
            {
                "head": config.name,
                "l2": result.l2,
                "selection": round(selection_score(result, lofo), 4),
                "val_all_provided": result.val["all provided"]["video_auc"],
                "val_lofo": lofo,
            }
        )
    return rows


def ranking(cuts: Sequence[list[dict]]) -> list[dict]:
    """Candidates by mean selection score over the cuts, best first, with their spread, mean rank within a cut
    and the number of cuts each ranks first in."""
    names = [row["head"] for row in cuts[0]]
    scores = np.array([[row["selection"] for row in cut] for cut in cuts])  # (cuts, candidates)
    ranks = (-scores).argsort(axis=1).argsort(axis=1) + 1
    rows = [
        {
            "head": name,
            "selection_mean": round(float(scores[:, i].mean()), 4),
            "selection_sd": round(float(scores[:, i].std(ddof=1)), 4) if len(cuts) > 1 else None,
            "val_all_provided_mean": round(float(np.mean([cut[i]["val_all_provided"] for cut in cuts])), 4),
            "val_lofo_mean": round(float(np.mean([np.mean(list(cut[i]["val_lofo"].values())) for cut in cuts])), 4),
            "mean_rank": round(float(ranks[:, i].mean()), 2),
            "first_in": int((ranks[:, i] == 1).sum()),
        }
        for i, name in enumerate(names)
    ]
    return sorted(rows, key=lambda row: -row["selection_mean"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache())
    parser.add_argument("--features", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--cuts", type=int, default=10, help="cuts 0 .. N-1 of the development data (0: the project's)")
    parser.add_argument("--out", type=Path, default=Path("out/development_cuts.json"))
    args = parser.parse_args(argv)
    if args.cuts < 1:
        sys.exit("error: --cuts needs at least 1")
    crops = args.crops.expanduser()
    windows = load_windows(crops, FeatureCache(args.features or default_feature_root(224)), args.rounds)
    if not windows:
        sys.exit(f"error: no cached CLIP features under {args.crops} (run `make train` first)")
    entries = read_index(crops)
    cuts = []
    for cut in range(args.cuts):
        split_of = development_splits(entries, cut)
        # Test windows are never fitted or scored here; dropping them keeps every fit's input free of them.
        development = [w for w in resplit(windows, split_of) if w.split != TEST]
        rows = cut_scores(development, CANDIDATES)
        best = max(rows, key=lambda row: row["selection"])
        print(json.dumps({"cut": cut, "first": best["head"], "selection": best["selection"]}), file=sys.stderr)
        cuts.append(rows)
    report = {
        "measure": "selection score (0.5 x validation AUC over all collected fakes + 0.5 x mean validation AUC of "
        "each collected family left out of training) on each cut's validation part; the project's test clips are "
        "in no cut",
        "cuts": args.cuts,
        "ranking": ranking(cuts),
        "per_cut": cuts,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report["ranking"][:5]))


if __name__ == "__main__":
    main()
