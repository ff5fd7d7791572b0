"""The one verdict rule, its wording, rounding, and what the model's own evaluation lets us say."""

from __future__ import annotations

import pytest

from realtime.frames import Verdict
from realtime.summary import VerdictSummary
from realtime.verdicts import (
    COVERAGE_HEADERS,
    CoverageRow,
    calibration_line,
    coverage_line,
    coverage_record,
    coverage_table,
    evaluated,
    headline,
    is_calibrated,
    judge,
    kind_title,
    known_misses,
    likely_real_caveat,
    percent,
    rounded,
    threshold_text,
    unproven,
    verdict,
)

# A hand-made evaluation in the layout training.evaluate stores in spec.metrics (a fixture, not a result).
EVALUATION = {
    "evaluation": {
        "split": "test",
        "families": [
            {
                "family": "face swap",
                "kind": "provided",
                "video_auc": 0.9123,
                "video_auc_ci95": [0.81, 0.97],
                "clips": 13,
                "real_clips": 28,
                "real_fpr": 0.036,
                "ece": 0.31,
            },
            {
                "family": "lip sync",
                "kind": "provided",
                "video_auc": 0.62,
                "video_auc_ci95": [0.41, 0.8],
                "clips": 3,
                "real_clips": 28,
                "real_fpr": 0.036,
                "ece": 0.2,
            },
            {
                "family": "reenactment",
                "kind": "held-out",
                "video_auc": 0.81,
                "video_auc_ci95": [0.45, 1.0],
                "clips": 2,
                "real_clips": 28,
                "real_fpr": 0.036,
                "ece": 0.4,
            },
            {
                "family": "self_blend",
                "kind": "synthetic",
                "video_auc": 0.95,
                "video_auc_ci95": [0.9, 0.99],
                "clips": 28,
                "real_clips": 28,
                "real_fpr": 0.036,
                "ece": 0.1,
            },
        ],
    }
}


@pytest.mark.parametrize(
    ("video", "peak", "trained", "expected"),
    [
        (None, None, True, "no face"),
        (None, None, False, "no face"),
        (0.9, 0.95, False, "untrained"),
        (0.2, 0.4, True, "real"),
        (0.2, 0.5, True, "uncertain"),  # one window reached the threshold (at or above it)
        (0.3, 0.89, True, "uncertain"),
        (0.5, 0.9, True, "fake"),  # the video score reached it
    ],
)
def test_the_verdict_rule(video, peak, trained, expected):
    assert verdict(video, peak, 0.5, trained) == expected


def test_a_summary_with_suspicious_segments_is_never_real():
    summary = VerdictSummary()
    for start, p_fake in [(0.0, 0.1), (1.0, 0.1), (2.0, 0.95), (3.0, 0.1)]:
        summary.add(Verdict("clip", 1, 0, 0, start, start + 0.4, 8, p_fake, "real", 1.0))
    assert summary.suspicious_segments(0.9) and summary.video_p_fake() < 0.9
    judged = summary.judgement(0.9, trained=True)
    assert judged.verdict == "uncertain" and judged.headline == "Uncertain: 1 suspicious moment (max 95%)"
    assert summary.max_p_fake() == 0.95
    assert summary.judgement(0.99, trained=True).verdict == "real"
    assert summary.judgement(0.3, trained=True).verdict == "fake"
    assert VerdictSummary().judgement(0.5, trained=True).headline == "No face found"


def test_the_wording_is_rounded_percentages():
    assert headline("real", 0.12, 0.3, 0) == "Likely real"
    assert headline("uncertain", 0.3, 0.886, 3) == "Uncertain: 3 suspicious moments (max 89%)"
    assert headline("uncertain", 0.3, 0.886, 1, unit="image") == "Uncertain: 1 suspicious image (max 89%)"
    assert headline("fake", 0.8721, 0.99, 2) == "Likely fake (87%)"
    assert headline("no face", None, None, 0) == "No face found"
    assert "not verdicts" in headline("untrained", 0.7, 0.8, 1)
    assert judge(0.8721, 0.99, 0.8392644832057887, True, 2).headline == "Likely fake (87%)"
    assert (percent(0.004), percent(0.996), percent(0.5)) == ("<1%", ">99%", "50%")
    assert rounded(0.8392644832057887) == 0.839 and rounded(None) is None
    assert threshold_text(0.8392644832057887) == "a window is suspicious when its score reaches 84%"


def test_evaluated_lists_family_auc_and_clips_of_the_checkpoints_own_evaluation():
    assert evaluated(EVALUATION) == [
        {"family": "face swap", "kind": "provided", "video_auc": 0.912, "clips": 13},
        {"family": "lip sync", "kind": "provided", "video_auc": 0.62, "clips": 3},
        {"family": "reenactment", "kind": "held-out", "video_auc": 0.81, "clips": 2},
        {"family": "self_blend", "kind": "synthetic", "video_auc": 0.95, "clips": 28},
    ]
    assert evaluated({}) == [] and evaluated({"evaluation": "broken"}) == []


def test_coverage_line_says_what_was_tested_how_well_and_what_is_missed():
    rows = EVALUATION["evaluation"]["families"]
    assert known_misses(rows) == ["lip sync"]  # AUC under 0.7
    assert unproven(rows) == ["reenactment"]  # AUC 0.81, but its 95% CI reaches 0.5 (two clips)
    assert coverage_line(EVALUATION) == (
        "Tested on held-out clips (video AUC, 1 = perfect, 0.5 = chance): face swap 0.91 (13 fakes), "
        "lip sync 0.62 (3 fakes), reenactment 0.81 (2 fakes, never trained on), self blend 0.95 (28 fakes, "
        "synthetic); known to miss: lip sync (AUC < 0.7); too few clips to tell: reenactment (under 5 fakes, "
        "or 95% CI reaches 0.5)."
    )
    assert coverage_line({}) == "This model carries no evaluation: nothing says which kinds of fakes it detects."


def test_calibrated_only_where_the_measured_ece_supports_it():
    assert is_calibrated(EVALUATION) is False
    assert "not calibrated (ECE up to 0.40" in calibration_line(EVALUATION)
    good = {"evaluation": {"families": [{**row, "ece": 0.03} for row in EVALUATION["evaluation"]["families"]]}}
    assert is_calibrated(good) is True and calibration_line(good).startswith("p_fake is calibrated")
    assert is_calibrated({}) is None and calibration_line({}).startswith("Calibration not measured")


def test_the_coverage_table_has_one_row_per_kind_with_fakes_auc_and_whether_it_is_missed():
    table = coverage_table(EVALUATION)
    assert COVERAGE_HEADERS == ("kind of fake", "fakes", "video AUC (95% CI)", "result")
    assert [(kind_title(row.kind), row.cells()) for row in table] == [
        ("Fakes from the data set", ("face swap", "13", "0.91 (0.81–0.97)", "detected")),
        ("Fakes from the data set", ("lip sync", "3", "0.62 (0.41–0.80)", "missed (AUC < 0.7)")),
        ("Fakes of kinds it was never trained on", ("reenactment", "2", "0.81 (0.45–1.00)", "too few clips to tell")),
        ("Synthetic fakes, made from real test clips", ("self blend", "28", "0.95 (0.90–0.99)", "detected")),
    ]
    assert table[1].to_dict() == {
        "family": "lip sync",
        "kind": "provided",
        "fakes": 3,
        "video_auc": 0.62,
        "video_auc_ci95": [0.41, 0.8],
        "status": "missed (AUC < 0.7)",
    }
    assert [CoverageRow.from_dict(row.to_dict()).cells() for row in table] == [row.cells() for row in table]
    without_ci = {"evaluation": {"families": [{"family": "roop", "video_auc": 0.9, "clips": 4}]}}
    assert [row.cells() for row in coverage_table(without_ci)] == [("roop", "4", "0.90", "too few clips to tell")]
    assert coverage_table({}) == []


def test_the_sentence_beside_likely_real_names_what_the_model_misses_and_no_more():
    assert likely_real_caveat(EVALUATION) == (
        "Known to miss: lip sync (video AUC < 0.7 on held-out clips), so a fake of this kind can be rated "
        "Likely real. Too few clips to tell: reenactment."
    )
    families = EVALUATION["evaluation"]["families"]
    synthetic = [{**row, "video_auc": 0.6} if row["family"] == "self_blend" else row for row in families] + [
        {"family": "flicker", "kind": "synthetic", "video_auc": 0.8, "video_auc_ci95": [0.7, 0.9], "clips": 28}
    ]
    assert likely_real_caveat({"evaluation": {"families": synthetic}}) == (
        "Known to miss: lip sync and 1 of the 2 synthetic kinds (video AUC < 0.7 on held-out clips), so a fake of "
        "these kinds can be rated Likely real. Too few clips to tell: reenactment."
    )
    none_missed = {"evaluation": {"families": families[:1]}}
    assert likely_real_caveat(none_missed) == (
        "Not known to miss any kind of fake it was tested on; an untested kind can be rated Likely real."
    )
    assert likely_real_caveat({}) == "This model carries no evaluation: nothing says which kinds of fakes it misses."


def test_the_json_outputs_carry_the_table_the_misses_and_the_sentence():
    record = coverage_record(EVALUATION)
    assert list(record) == [
        "evaluated",
        "coverage_table",
        "known_misses",
        "coverage",
        "likely_real_caveat",
        "calibrated",
        "calibration",
    ]
    assert record["coverage_table"] == [row.to_dict() for row in coverage_table(EVALUATION)]
    assert record["known_misses"] == ["lip sync"] and record["likely_real_caveat"] == likely_real_caveat(EVALUATION)
    assert record["coverage"] == coverage_line(EVALUATION) and record["evaluated"] == evaluated(EVALUATION)
    empty = coverage_record({})
    assert (empty["coverage_table"], empty["known_misses"], empty["calibrated"]) == ([], [], None)
