"""The head comparison's candidates ranked over re-cuts of the development data (training.development_cuts)."""

from dataclasses import replace

import numpy as np

from tests.training.test_heads import data
from training.compare_heads import HeadConfig
from training.data.splits import TEST, TRAIN, VAL
from training.development_cuts import cut_scores, ranking
from training.samples import resplit


def test_candidates_are_ranked_by_their_mean_selection_over_the_cuts() -> None:
    def cut(*scores: float) -> list[dict]:
        return [
            {"head": name, "selection": s, "val_all_provided": s, "val_lofo": {"x": s}}
            for name, s in zip("abc", scores, strict=True)
        ]

    rows = ranking([cut(0.70, 0.72, 0.60), cut(0.74, 0.71, 0.61), cut(0.75, 0.70, 0.62)])
    assert [row["head"] for row in rows] == ["a", "b", "c"]
    assert [row["first_in"] for row in rows] == [2, 1, 0]
    assert rows[0]["selection_mean"] == 0.73 and rows[0]["mean_rank"] == 1.33
    assert rows[2]["mean_rank"] == 3.0


def test_a_cut_scores_each_candidate_on_its_validation_part_only() -> None:
    windows = data(np.random.default_rng(0), collected=8, synthetic=60)
    collected = HeadConfig("collected fakes", l2=1e-3)
    candidates = [collected, replace(collected, name="every fake", experts=("all",), pairs=True)]
    rows = cut_scores(windows, candidates)
    assert [row["head"] for row in rows] == ["collected fakes", "every fake"]
    # The test windows take no part: scores on the windows without them are the same.
    without_test = cut_scores([w for w in windows if w.split != TEST], candidates)
    assert [row["selection"] for row in rows] == [row["selection"] for row in without_test]
    # Moving validation clips into training changes what is scored.
    swapped = {w.clip_id: {TRAIN: VAL, VAL: TRAIN}.get(w.split, w.split) for w in windows}
    moved = cut_scores(resplit(windows, swapped), candidates)
    assert [row["selection"] for row in moved] != [row["selection"] for row in rows]
    for row in rows:
        assert set(row["val_lofo"]) == {"face swap", "talking head"} and 0.0 <= row["selection"] <= 1.0
