"""The one verdict rule, its wording, rounding, and what the model's own evaluation lets us say."""

from __future__ import annotations

import pytest

from realtime.frames import Verdict
from realtime.summary import VerdictSummary
from realtime.verdicts import (
    calibration_line,
    coverage_line,
    evaluated,
    headline,
    is_calibrated,
    judge,
    known_misses,
    percent,
    rounded,
    threshold_text,
    unproven,
    verdict,
)

# A hand-made evaluation in the layout models.evaluate stores in spec.metrics (a fixture, not a result).
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
        "synthetic); known to miss: lip sync (AUC < 0.7); too few clips to tell: reenactment (95% CI reaches 0.5)."
    )
    assert coverage_line({}) == "This model carries no evaluation: nothing says which kinds of fakes it detects."


def test_calibrated_only_where_the_measured_ece_supports_it():
    assert is_calibrated(EVALUATION) is False
    assert "not calibrated (ECE up to 0.40" in calibration_line(EVALUATION)
    good = {"evaluation": {"families": [{**row, "ece": 0.03} for row in EVALUATION["evaluation"]["families"]]}}
    assert is_calibrated(good) is True and calibration_line(good).startswith("p_fake is calibrated")
    assert is_calibrated({}) is None and calibration_line({}).startswith("Calibration not measured")
