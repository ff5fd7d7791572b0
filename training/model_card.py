"""Markdown tables for the model card, from the JSON reports of ``training.evaluate`` (numbers are never typed in).

python -m training.model_card families NEW.eval.json [--against OLD.eval.json]
python -m training.model_card seeds SEED0.eval.json SEED1.eval.json SEED2.eval.json
python -m training.model_card held-out LOFO1.eval.json LOFO2.eval.json ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def _subset_families(report: dict, split: str = "test") -> dict[str, dict]:
    """Family subsets of a report by display name: provided families, then synthetic ones."""
    found = {}
    for name, figures in report["subsets"].items():
        for kind, label in (("family", "provided"), ("synthetic", "synthetic"), ("method", "method")):
            prefix = f"{split}: {kind}: "
            if name.startswith(prefix):
                found[f"{label}: {name.removeprefix(prefix)}"] = figures
    return found


def _auc(figures: dict | None) -> str:
    if figures is None:
        return "-"
    low, high = figures["video"]["auc_ci95"]
    return f"{figures['video']['auc']:.3f} [{low:.2f}-{high:.2f}]"


def families_table(report: dict, against: dict | None = None, methods: bool = False) -> str:
    """Per family (worst first): fakes, video AUC [95% CI], frame-mean AUC, real FPR, ECE; and the other model."""
    rows = _subset_families(report)
    other = _subset_families(against) if against else {}
    header = "| family | fakes | video AUC [95% CI] | mean of frame scores | real-clip FPR | ECE |"
    rule = "|---|---|---|---|---|---|"
    if against:
        header += " previous detector |"
        rule += "---|"
    lines = [header, rule]
    names = [n for n in rows if methods == n.startswith("method: ")]
    for name in sorted(names, key=lambda n: rows[n]["video"]["auc"]):
        figures = rows[name]
        video = figures["video"]
        line = (
            f"| {name} | {figures['fake_clips']} | {_auc(figures)} | {figures['video_frame_mean_auc']:.3f} "
            f"| {video['fpr']:.2f} | {video['ece']:.2f} |"
        )
        if against:
            line += f" {_auc(other.get(name))} |"
        lines.append(line)
    reals = report["subsets"].get("test: all provided fakes")
    if reals:
        count = reals["clips"] - reals["fake_clips"]
        lines.append(f"\n{count} real test clips in every row; threshold {report['threshold']:.3f}.")
    return "\n".join(lines)


def seeds_table(reports: list[dict]) -> str:
    """Per family: the video AUC of each seed, and their mean ± standard deviation."""
    per_seed = [_subset_families(r) for r in reports]
    names = sorted({n for rows in per_seed for n in rows if not n.startswith("method: ")})
    header = "| family | " + " | ".join(f"seed {i}" for i in range(len(reports))) + " | mean ± sd |"
    lines = [header, "|---|" + "---|" * (len(reports) + 1)]
    for name in names:
        values = [rows[name]["video"]["auc"] if name in rows else np.nan for rows in per_seed]
        cells = " | ".join("-" if np.isnan(v) else f"{v:.3f}" for v in values)
        lines.append(f"| {name} | {cells} | {np.nanmean(values):.3f} ± {np.nanstd(values):.3f} |")
    return "\n".join(lines)


def held_out_table(reports: list[dict]) -> str:
    """Each leave-one-family-out run: the family it never saw, scored on all its clips, worst first."""
    rows = []
    for report in reports:
        family = report["hold_out_family"]
        figures = report["subsets"].get(f"test: held-out family (all splits): {family}")
        if figures:
            rows.append((figures["video"]["auc"], family, figures))
    lines = ["| held-out family | fakes (all splits) | video AUC [95% CI] | real-clip FPR |", "|---|---|---|---|"]
    for _, family, figures in sorted(rows, key=lambda row: row[0]):
        lines.append(f"| {family} | {figures['fake_clips']} | {_auc(figures)} | {figures['video']['fpr']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", choices=["families", "methods", "seeds", "held-out"])
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--against", type=Path, help="a second report to compare with (families, methods)")
    args = parser.parse_args(argv)
    reports = [load(path) for path in args.reports]
    against = load(args.against) if args.against else None
    if args.table in ("families", "methods"):
        print(families_table(reports[0], against, methods=args.table == "methods"))
    elif args.table == "seeds":
        print(seeds_table(reports))
    else:
        print(held_out_table(reports))


if __name__ == "__main__":
    main()
