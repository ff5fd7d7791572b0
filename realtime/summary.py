"""Video-level score and suspicious segments from a stream of verdicts (pure)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from realtime.frames import Verdict
from realtime.verdicts import Judgement, judge

TIME_BUCKET_S = 0.5  # windows ending in the same half second count as one moment


@dataclass(frozen=True)
class Moment:
    """The most suspicious face at one moment of the video."""

    start_s: float
    end_s: float
    p_fake: float


class VerdictSummary:
    """Accumulates verdicts of one source.

    Video-level p_fake = mean over moments (half-second buckets, or images) of the maximum
    p_fake over the faces scored at that moment: one fake face among real ones still counts,
    and a long clip is not judged by a single outlier window.
    """

    def __init__(self) -> None:
        self._moments: dict[tuple[str, int], list[Verdict]] = defaultdict(list)
        self.windows = 0
        self.track_ids: set[int] = set()

    def add(self, verdict: Verdict) -> None:
        self.windows += 1
        self.track_ids.add(verdict.track_id)
        self._moments[(verdict.name, int(verdict.end_pts_s // TIME_BUCKET_S))].append(verdict)

    def moments(self) -> list[Moment]:
        """Max-over-faces per moment, in time order."""
        result = []
        for _, verdicts in sorted(self._moments.items()):
            worst = max(verdicts, key=lambda v: v.p_fake)
            result.append(Moment(worst.start_pts_s, worst.end_pts_s, worst.p_fake))
        return result

    def video_p_fake(self) -> float | None:
        """None when no face was ever scored."""
        moments = self.moments()
        if not moments:
            return None
        return sum(m.p_fake for m in moments) / len(moments)

    def max_p_fake(self) -> float | None:
        """The highest window score of any face; None when no face was ever scored."""
        return max((m.p_fake for m in self.moments()), default=None)

    def judgement(self, threshold: float, trained: bool, still_images: bool = False) -> Judgement:
        """The verdict and headline of what was scored so far (the one rule of :mod:`realtime.verdicts`)."""
        if still_images:
            suspicious, unit = len(self.images_at_or_above(threshold)), "image"
        else:
            suspicious, unit = len(self.suspicious_segments(threshold)), "moment"
        return judge(self.video_p_fake(), self.max_p_fake(), threshold, trained, suspicious, unit)

    def copy(self) -> VerdictSummary:
        """An independent summary of the same verdicts (they are frozen, so they are shared)."""
        other = VerdictSummary()
        other._moments.update({key: list(verdicts) for key, verdicts in self._moments.items()})
        other.windows = self.windows
        other.track_ids = set(self.track_ids)
        return other

    def images_at_or_above(self, threshold: float) -> list[str]:
        """Image names (image sources) where some face reached ``threshold``."""
        return sorted(
            {name for (name, _), verdicts in self._moments.items() if max(v.p_fake for v in verdicts) >= threshold}
        )

    def suspicious_segments(self, threshold: float, merge_gap_s: float = 1.0) -> list[list[float]]:
        """[start_s, end_s] spans where the most suspicious face was at or above ``threshold``.

        Spans closer than ``merge_gap_s`` are merged so a flickering score gives one segment.
        """
        segments: list[list[float]] = []
        for moment in self.moments():
            if moment.p_fake < threshold:
                continue
            if segments and moment.start_s - segments[-1][1] <= merge_gap_s:
                segments[-1][1] = max(segments[-1][1], moment.end_s)
            else:
                segments.append([moment.start_s, moment.end_s])
        return [[round(start, 3), round(end, 3)] for start, end in segments]
