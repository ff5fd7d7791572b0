"""v3's recipe against the probe's over several cuts of the data (training.split_seeds): both heads fitted on
one cut's windows and paired on its test clips, the corrected interval over cuts, the overview's tallies."""

import numpy as np
import pytest
from scipy import stats

from tests.training.test_heads import data
from training import split_seeds
from training.compare_heads import HeadConfig
from training.data.splits import TEST
from training.samples import CLEAN


def test_the_corrected_interval_is_the_t_interval_widened_by_the_overlap_of_the_training_parts() -> None:
    differences = [0.02, -0.01, 0.04, 0.00, 0.03]
    sem = np.std(differences, ddof=1) / np.sqrt(len(differences))
    naive = stats.t.interval(0.95, len(differences) - 1, loc=np.mean(differences), scale=sem)
    np.testing.assert_allclose(split_seeds.corrected_interval(differences, 0.0), naive)
    low, high = split_seeds.corrected_interval(differences, 0.6)
    assert low < naive[0] and high > naive[1]
    # variance x (1/K + 0.6) instead of 1/K: the half-width grows by sqrt(1 + 0.6 K)
    np.testing.assert_allclose(high - low, (naive[1] - naive[0]) * np.sqrt(1 + 0.6 * len(differences)))
    assert np.isnan(split_seeds.corrected_interval([0.1], 0.6)).all()


def head_row(overall: float, lofo: float, stills: float | None, families: dict, fpr: float = 0.0) -> dict:
    row = {"all_provided": overall, "lofo_mean": lofo, "stills": stills, "synthetic_mean": 0.6, "families": families}
    row["at_threshold"] = {"threshold": 0.5, "test_real_clip_fpr": fpr, "test_fake_clip_tpr": 0.4}
    return row


def test_the_overview_counts_the_cuts_each_recipe_wins_and_averages_what_each_cut_holds() -> None:
    rows = [
        {
            "test_clips": 150,
            "train_clips": 250,
            "v3": head_row(0.80, 0.74, 0.88, {"provided: lip sync": 0.3, "provided: face swap": 0.9}),
            "probe": head_row(0.78, 0.60, 0.83, {"provided: face swap": 0.8}),
            "v3_minus_probe": {"difference": 0.02},
        },
        {
            "test_clips": 150,
            "train_clips": 250,
            "v3": head_row(0.76, 0.70, None, {"provided: face swap": 0.7}, fpr=0.09),  # this cut tests no still
            "probe": head_row(0.79, 0.62, None, {"provided: face swap": 0.6}),
            "v3_minus_probe": {"difference": -0.03},
        },
        {
            "test_clips": 150,
            "train_clips": 250,
            "v3": head_row(0.82, 0.72, 0.90, {}),
            "probe": head_row(0.81, 0.58, 0.85, {}),
            "v3_minus_probe": {"difference": 0.01},
        },
    ]
    overview = split_seeds.overview(rows)
    assert overview["splits"] == 3
    difference = overview["all_provided_difference"]
    assert difference["v3_better"] == 2 and difference["probe_better"] == 1
    assert difference["mean"] == 0.0
    assert difference["ci95_corrected"][0] < 0 < difference["ci95_corrected"][1]
    assert overview["v3"]["stills"] == 0.89  # the cut without stills is left out, not counted as 0
    assert overview["v3"]["families"] == {"provided: face swap": 0.8, "provided: lip sync": 0.3}
    assert overview["v3"]["all_provided_range"] == [0.76, 0.82]
    assert overview["lofo_difference_mean"] == pytest.approx(0.12)
    assert overview["v3"]["at_threshold"]["test_real_clip_fpr"] == {"mean": 0.03, "max": 0.09}


def test_one_cut_fits_both_recipes_and_pairs_them_on_its_test_clips(monkeypatch) -> None:
    windows = data(np.random.default_rng(0), collected=8, synthetic=60)
    # Two recipes the toy windows can tell apart: one learns the collected fakes only, one every fake.
    heads = {
        "v3": HeadConfig("every fake", experts=("all",), pairs=True, l2=1e-3),
        "probe": HeadConfig("collected fakes", l2=1e-3),
    }
    monkeypatch.setattr(split_seeds, "HEADS", heads)
    row = split_seeds.split_row(windows, split_seed=7)
    assert row["split_seed"] == 7
    clean = [w for w in windows if w.origin == CLEAN]
    assert row["test_clips"] == sum(w.split == TEST for w in clean) == 40 + 16
    compared = row["v3_minus_probe"]
    assert compared["fakes"] == 16 and compared["reals"] == 40
    # the paired difference is the difference of the two recipes' own test AUCs over all collected fakes
    assert compared["difference"] == pytest.approx(row["v3"]["all_provided"] - row["probe"]["all_provided"], abs=1e-4)
    # v3 is calibrated on the cut's validation clips as train_v3 ships it, and its threshold read on the test clips
    at_threshold = row["v3"]["at_threshold"]
    assert at_threshold["threshold"] >= 0.5 and 0.0 <= at_threshold["test_real_clip_fpr"] <= 0.1
    assert at_threshold["test_fake_clip_tpr"] > at_threshold["test_real_clip_fpr"]
    for name in heads:
        assert set(row[name]["families"]) == {"provided: face swap", "provided: talking head"}
        assert 0.0 <= row[name]["lofo_mean"] <= 1.0
