"""Model-card tables come from evaluation reports: worst family first, seeds summarised, held-out runs listed."""

from __future__ import annotations

from training.model_card import families_table, held_out_table, seeds_table


def subset(auc: float, fakes: int = 4, clips: int = 14) -> dict:
    video = {"auc": auc, "auc_ci95": [auc - 0.1, min(1.0, auc + 0.1)], "fpr": 0.05, "ece": 0.1}
    return {"video": video, "fake_clips": fakes, "clips": clips, "video_frame_mean_auc": auc - 0.01}


def report(aucs: dict[str, float], hold_out: str = "") -> dict:
    subsets = {f"test: family: {name}": subset(auc) for name, auc in aucs.items()}
    subsets["test: all provided fakes"] = subset(0.7, fakes=8, clips=18)
    if hold_out:
        subsets[f"test: held-out family (all splits): {hold_out}"] = subset(aucs.get(hold_out, 0.5), fakes=11)
    return {"subsets": subsets, "threshold": 0.61234, "hold_out_family": hold_out}


def test_families_are_listed_worst_first_with_the_other_model_beside():
    table = families_table(report({"lip sync": 0.6, "face swap": 0.9}), against=report({"lip sync": 0.4}))
    lines = table.splitlines()
    assert lines[2].startswith("| provided: lip sync | 4 | 0.600 [0.50-0.70]") and lines[2].endswith(
        "0.400 [0.30-0.50] |"
    )
    assert lines[3].startswith("| provided: face swap") and lines[3].endswith("| - |")
    assert "10 real test clips in every row; threshold 0.612." in table


def test_seed_spread_and_held_out_runs():
    seeds = seeds_table([report({"lip sync": 0.6}), report({"lip sync": 0.8})])
    assert "| provided: lip sync | 0.600 | 0.800 | 0.700 ± 0.100 |" in seeds
    held = held_out_table([report({"lip sync": 0.55}, "lip sync"), report({"face swap": 0.45}, "face swap")])
    assert held.splitlines()[2].startswith("| face swap | 11 | 0.450")  # the worst held-out family first
