from realtime.frames import Verdict
from realtime.summary import VerdictSummary


def verdict(track_id: int, start: float, end: float, p_fake: float) -> Verdict:
    return Verdict("clip", track_id, 0, 0, start, end, 8, p_fake, "real", 1.0)


def test_video_score_is_mean_over_moments_of_the_worst_face():
    summary = VerdictSummary()
    summary.add(verdict(1, 0.0, 0.2, 0.1))
    summary.add(verdict(2, 0.0, 0.2, 0.9))  # same moment: the worse face counts
    summary.add(verdict(1, 1.0, 1.2, 0.3))
    assert summary.video_p_fake() == (0.9 + 0.3) / 2
    assert summary.track_ids == {1, 2}


def test_no_verdicts_means_no_score():
    assert VerdictSummary().video_p_fake() is None


def test_segments_merge_close_spans_and_split_far_ones():
    summary = VerdictSummary()
    for start, p in [(0.0, 0.9), (0.5, 0.8), (1.0, 0.2), (1.5, 0.95), (5.0, 0.7), (6.0, 0.1)]:
        summary.add(verdict(1, start, start + 0.4, p))
    assert summary.suspicious_segments(0.5, merge_gap_s=1.0) == [[0.0, 1.9], [5.0, 5.4]]
    assert summary.suspicious_segments(0.99) == []
