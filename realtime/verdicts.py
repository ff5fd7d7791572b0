"""What every output says about a video and about the model: one function per fact (pure, no Qt, no torch).

The verdict rule, its wording, how numbers are rounded and what the checkpoint's own evaluation
says about the fakes it can see are written here once; the headless summary, the scan reports
(JSON, CSV, HTML, SRT, folder index), the exported video, alerts, the stream sinks, the terminal
table, the window and the stream grid all call these functions.

The rule (:func:`verdict`), for a model whose spec says it is trained:

- ``no face``: no face was scored;
- ``fake``: the video score (``video_p_fake``) reached the threshold;
- ``uncertain``: the video score did not, but some window of some face did (suspicious moments);
- ``real``: no window of any face reached the threshold. A video with suspicious segments is never ``real``.

An untrained model gives ``untrained`` (its scores are not verdicts). A window *reaches the
threshold* when its p_fake is at or above it.

What the model was tested on reads the same everywhere too: :func:`coverage_table` (one row per kind of
fake: how many fakes, the video AUC, detected or missed), :func:`likely_real_caveat` (the sentence shown
right beside every ``Likely real`` verdict: the kinds the model is known to miss) and :func:`coverage_line`
(all of it in one line, for the JSON and terminal summaries).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REAL = "real"
UNCERTAIN = "uncertain"
FAKE = "fake"
NO_FACE = "no face"
UNTRAINED = "untrained"
VERDICTS = (REAL, UNCERTAIN, FAKE, NO_FACE, UNTRAINED)

DECIMALS = 3  # scores and thresholds in JSON outputs
WEAK_AUC = 0.7  # an evaluated family with a video AUC below this is one the model is known to miss
CHANCE_AUC = 0.5
# Fewer fake clips than this cannot tell, whatever their interval says: a bootstrap over one or two fakes
# resamples the reals only, so its interval is narrow and says nothing about the family.
MIN_CLIPS_TO_TELL = 5
CALIBRATED_ECE = 0.05  # p_fake is called calibrated only when every evaluated family's ECE is at most this

LIKELY_REAL = "Likely real"  # the headline of a ``real`` verdict

DETECTED = "detected"  # the result column of the coverage table (COVERAGE_CAPTION says what each means)
MISSED = f"missed (AUC < {WEAK_AUC})"
TOO_FEW_CLIPS = "too few clips to tell"
COVERAGE_HEADERS = ("kind of fake", "fakes", "video AUC (95% CI)", "result")
COVERAGE_CAPTION = (
    f"Video AUC on held-out clips: 1 = perfect, 0.5 = chance. Detected: {WEAK_AUC} or more; missed: under "
    f"{WEAK_AUC}; too few clips to tell: {WEAK_AUC} or more, but its 95% CI reaches {CHANCE_AUC} or it has fewer "
    f"than {MIN_CLIPS_TO_TELL} fakes."
)
KIND_TITLES = {  # the coverage table's rows are grouped under these titles, in this order
    "provided": "Fakes from the data set",
    "held-out": "Fakes of kinds it was never trained on",
    "synthetic": "Synthetic fakes, made from real test clips",
}
NO_EVALUATION = "This model carries no evaluation: nothing says which kinds of fakes it detects."


@dataclass(frozen=True)
class Judgement:
    """The verdict of a video (machine value) and the sentence a person reads."""

    verdict: str
    headline: str


def rounded(value: float | None) -> float | None:
    """A score or threshold as JSON outputs carry it (3 decimals); None stays None."""
    return None if value is None else round(float(value), DECIMALS)


def percent(p_fake: float) -> str:
    """A score as a rounded percentage: ``87%``; never ``0%`` or ``100%`` (``<1%``, ``>99%``), no score is certain."""
    value = round(p_fake * 100)
    if value < 1:
        return "<1%"
    if value > 99:
        return ">99%"
    return f"{value}%"


def verdict(video_p_fake: float | None, max_p_fake: float | None, threshold: float, trained: bool) -> str:
    """The one verdict rule (see the module docstring): ``real``, ``uncertain``, ``fake``, ``no face`` or
    ``untrained``. ``video_p_fake`` None means no face was scored; ``max_p_fake`` is the highest window score."""
    if video_p_fake is None:
        return NO_FACE
    if not trained:
        return UNTRAINED
    if video_p_fake >= threshold:
        return FAKE
    if max_p_fake is not None and max_p_fake >= threshold:
        return UNCERTAIN
    return REAL


def headline(
    verdict_value: str,
    video_p_fake: float | None,
    max_p_fake: float | None,
    suspicious: int,
    unit: str = "moment",
) -> str:
    """What a person reads: ``Likely real``, ``Uncertain: 3 suspicious moments (max 89%)``, ``Likely fake (87%)``.

    ``suspicious``: how many suspicious segments (``unit`` "moment") or images (``unit`` "image").
    """
    if verdict_value == FAKE and video_p_fake is not None:
        return f"Likely fake ({percent(video_p_fake)})"
    if verdict_value == UNCERTAIN:
        count = max(suspicious, 1)
        peak = f" (max {percent(max_p_fake)})" if max_p_fake is not None else ""
        return f"Uncertain: {count} suspicious {unit}{'' if count == 1 else 's'}{peak}"
    if verdict_value == REAL:
        return LIKELY_REAL
    if verdict_value == NO_FACE:
        return "No face found"
    return "Untrained model: scores are not verdicts"


def judge(
    video_p_fake: float | None,
    max_p_fake: float | None,
    threshold: float,
    trained: bool,
    suspicious: int,
    unit: str = "moment",
) -> Judgement:
    """:func:`verdict` and its :func:`headline` together."""
    value = verdict(video_p_fake, max_p_fake, threshold, trained)
    return Judgement(value, headline(value, video_p_fake, max_p_fake, suspicious, unit))


def threshold_text(threshold: float) -> str:
    """What the threshold means, in one clause: ``a window is suspicious when its score reaches 84%``."""
    return f"a window is suspicious when its score reaches {percent(threshold)}"


# ---- what the model was tested on ---------------------------------------------------------------


def evaluation_rows(metrics: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The per-family rows of the checkpoint's own evaluation (``spec.metrics["evaluation"]["families"]``);
    None when the model carries none. Rows without a family name or a video AUC are left out."""
    evaluation = metrics.get("evaluation") if isinstance(metrics, Mapping) else None
    if not isinstance(evaluation, Mapping) or not isinstance(evaluation.get("families"), list):
        return None
    rows = []
    for row in evaluation["families"]:
        if isinstance(row, Mapping) and isinstance(row.get("family"), str) and _number(row.get("video_auc")):
            rows.append(dict(row))
    return rows


def evaluated(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``[{family, kind, video_auc, clips}]`` of the model's own evaluation (empty when it carries none)."""
    return [
        {
            "family": row["family"],
            "kind": str(row.get("kind", "provided")),
            "video_auc": rounded(row["video_auc"]),
            "clips": int(row.get("clips", 0)),
        }
        for row in evaluation_rows(metrics) or []
    ]


@dataclass(frozen=True)
class CoverageRow:
    """One kind of fake of the model's own evaluation, as the coverage table shows it."""

    family: str  # "talking head"
    kind: str  # provided (fakes of the test split), synthetic (made from its reals) or held-out (never trained on)
    fakes: int  # fake clips it was measured on
    video_auc: float
    video_auc_ci95: tuple[float, float] | None
    status: str  # DETECTED, MISSED or TOO_FEW_CLIPS

    def cells(self) -> tuple[str, str, str, str]:
        """The row in words, under :data:`COVERAGE_HEADERS` (and under the :func:`kind_title` of its kind):
        ``("talking head", "21", "0.35 (0.20–0.50)", "missed (AUC < 0.7)")``."""
        auc = f"{self.video_auc:.2f}"
        if self.video_auc_ci95 is not None:
            auc += f" ({self.video_auc_ci95[0]:.2f}–{self.video_auc_ci95[1]:.2f})"
        return self.family, str(self.fakes), auc, self.status

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> CoverageRow:
        """A row of ``model.coverage_table[]`` as :meth:`to_dict` wrote it (the HTML reports are made from the JSON)."""
        ci = row.get("video_auc_ci95")
        return cls(
            family=str(row["family"]),
            kind=str(row["kind"]),
            fakes=int(row["fakes"]),
            video_auc=float(row["video_auc"]),
            video_auc_ci95=None if ci is None else (float(ci[0]), float(ci[1])),
            status=str(row["status"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """The row as the JSON outputs carry it (``model.coverage_table[]``)."""
        ci = None if self.video_auc_ci95 is None else [rounded(self.video_auc_ci95[0]), rounded(self.video_auc_ci95[1])]
        return {
            "family": self.family,
            "kind": self.kind,
            "fakes": self.fakes,
            "video_auc": rounded(self.video_auc),
            "video_auc_ci95": ci,
            "status": self.status,
        }


def coverage_status(row: Mapping[str, Any]) -> str:
    """:data:`MISSED` when the video AUC is below :data:`WEAK_AUC` (0.7); else :data:`TOO_FEW_CLIPS` when the
    95% CI of the video AUC reaches chance (0.5) or there are under :data:`MIN_CLIPS_TO_TELL` fake clips;
    else :data:`DETECTED`."""
    if float(row["video_auc"]) < WEAK_AUC:
        return MISSED
    ci = _ci95(row)
    too_few = int(row.get("clips", 0)) < MIN_CLIPS_TO_TELL or (ci is not None and ci[0] <= CHANCE_AUC)
    return TOO_FEW_CLIPS if too_few else DETECTED


def coverage_table(metrics: Mapping[str, Any]) -> list[CoverageRow]:
    """The rows of the coverage table, in the order every output lists them: fakes of the data set first,
    then held-out, then synthetic kinds, each by video AUC, highest first. Empty when the model carries no
    evaluation."""
    ordered = sorted(
        evaluation_rows(metrics) or [],
        key=lambda row: (_KIND_ORDER.get(str(row.get("kind")), 3), -float(row["video_auc"])),
    )
    return [
        CoverageRow(
            family=_family_name(row),
            kind=str(row.get("kind", "provided")),
            fakes=int(row.get("clips", 0)),
            video_auc=float(row["video_auc"]),
            video_auc_ci95=_ci95(row),
            status=coverage_status(row),
        )
        for row in ordered
    ]


def known_misses(rows: list[dict[str, Any]]) -> list[str]:
    """Families the model is known to miss: video AUC below :data:`WEAK_AUC` (0.7)."""
    return [_family_name(row) for row in rows if coverage_status(row) == MISSED]


def unproven(rows: list[dict[str, Any]]) -> list[str]:
    """Families scored at or above :data:`WEAK_AUC` on too few clips to tell: the 95% CI of the video AUC
    reaches chance (0.5), or there are fewer than :data:`MIN_CLIPS_TO_TELL` fake clips."""
    return [_family_name(row) for row in rows if coverage_status(row) == TOO_FEW_CLIPS]


def kind_title(kind: str) -> str:
    """The title of a group of the coverage table: ``Synthetic fakes, made from real test clips``."""
    return KIND_TITLES.get(kind, f"Fakes of kind {kind}")


def likely_real_caveat(metrics: Mapping[str, Any]) -> str:
    """The sentence shown right beside every ``Likely real`` verdict: which kinds of fakes the model is known
    to miss (so a fake of those kinds can get that verdict), which were measured on too few clips to tell,
    or that the model carries no evaluation. Synthetic kinds are counted, not named (the table names them).

    ``Known to miss: lip sync, talking head and 7 of the 10 synthetic kinds (video AUC < 0.7 on held-out
    clips), so a fake of these kinds can be rated Likely real.``
    """
    table = coverage_table(metrics)
    if not table:
        return "This model carries no evaluation: nothing says which kinds of fakes it misses."
    misses = [row for row in table if row.status == MISSED]
    named = [row.family for row in misses if row.kind != "synthetic"]
    synthetic = sum(row.kind == "synthetic" for row in misses)
    if synthetic:
        tested = sum(row.kind == "synthetic" for row in table)
        named.append(f"{synthetic} of the {tested} synthetic kinds")
    if misses:
        listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
        these = "these kinds" if len(misses) > 1 else "this kind"
        sentence = (
            f"Known to miss: {listed} (video AUC < {WEAK_AUC} on held-out clips), "
            f"so a fake of {these} can be rated {LIKELY_REAL}."
        )
    else:
        sentence = f"Not known to miss any kind of fake it was tested on; an untested kind can be rated {LIKELY_REAL}."
    few = [row.family for row in table if row.status == TOO_FEW_CLIPS]
    if few:
        sentence += f" Too few clips to tell: {', '.join(few)}."
    return sentence


def coverage_line(metrics: Mapping[str, Any]) -> str:
    """One line: what the model was tested on, how well (video AUC per family), which kinds it misses.

    ``Tested on held-out clips (video AUC, 0.5 = chance): face swap 0.88 (13 fakes), talking head 0.35
    (21 fakes); known to miss: talking head (AUC < 0.7); too few clips to tell: roop (under 5 fakes, or 95% CI
    reaches 0.5)``.
    """
    table = coverage_table(metrics)
    if not table:
        return NO_EVALUATION
    tested = ", ".join(f"{row.family} {row.video_auc:.2f} ({_clips_text(row.fakes, row.kind)})" for row in table)
    misses = [row.family for row in table if row.status == MISSED]
    line = f"Tested on held-out clips (video AUC, 1 = perfect, 0.5 = chance): {tested}; known to miss: "
    line += f"{', '.join(misses)} (AUC < {WEAK_AUC})" if misses else "none of these"
    few = [row.family for row in table if row.status == TOO_FEW_CLIPS]
    if few:
        line += f"; too few clips to tell: {', '.join(few)} (under {MIN_CLIPS_TO_TELL} fakes, or 95% CI reaches 0.5)"
    return line + "."


def is_calibrated(metrics: Mapping[str, Any]) -> bool | None:
    """True when every evaluated family's ECE is at most :data:`CALIBRATED_ECE` (0.05); None when not measured."""
    eces = _eces(metrics)
    if not eces:
        return None
    return max(eces) <= CALIBRATED_ECE


def calibration_line(metrics: Mapping[str, Any]) -> str:
    """Whether p_fake may be read as a probability, from the measured ECE of the model's own evaluation."""
    eces = _eces(metrics)
    if not eces:
        return "Calibration not measured: read p_fake as a score, not as a probability."
    if max(eces) <= CALIBRATED_ECE:
        return f"p_fake is calibrated on the tested kinds (ECE at most {max(eces):.2f})."
    return (
        f"p_fake is not calibrated (ECE up to {max(eces):.2f} on the tested kinds): "
        "read it as a score, not as a probability."
    )


def coverage_record(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """What the JSON outputs say of the model's own evaluation, where they describe the model (the headless and
    stream summaries, the scan report, the folder index): ``evaluated``, ``coverage_table`` (the rows of
    :func:`coverage_table`), ``known_misses`` (the families it misses), ``coverage``, ``likely_real_caveat``,
    ``calibrated`` and ``calibration``."""
    table = coverage_table(metrics)
    return {
        "evaluated": evaluated(metrics),
        "coverage_table": [row.to_dict() for row in table],
        "known_misses": [row.family for row in table if row.status == MISSED],
        "coverage": coverage_line(metrics),
        "likely_real_caveat": likely_real_caveat(metrics),
        "calibrated": is_calibrated(metrics),
        "calibration": calibration_line(metrics),
    }


_KIND_ORDER = {"provided": 0, "held-out": 1, "synthetic": 2}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _family_name(row: Mapping[str, Any]) -> str:
    return str(row["family"]).replace("_", " ")


def _ci95(row: Mapping[str, Any]) -> tuple[float, float] | None:
    ci = row.get("video_auc_ci95")
    if isinstance(ci, list | tuple) and len(ci) == 2 and _number(ci[0]) and _number(ci[1]):
        return float(ci[0]), float(ci[1])
    return None


def _clips_text(clips: int, kind: str) -> str:
    text = f"{clips} fake{'' if clips == 1 else 's'}"
    if kind == "synthetic":
        return f"{text}, synthetic"
    if kind == "held-out":
        return f"{text}, never trained on"
    return text


def _eces(metrics: Mapping[str, Any]) -> list[float]:
    return [float(row["ece"]) for row in evaluation_rows(metrics) or [] if _number(row.get("ece"))]
