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
MIN_CLIPS_WITHOUT_CI = 5  # without a confidence interval, fewer fake clips than this cannot tell
CALIBRATED_ECE = 0.05  # p_fake is called calibrated only when every evaluated family's ECE is at most this


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
        return "Likely real"
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


def known_misses(rows: list[dict[str, Any]]) -> list[str]:
    """Families the model is known to miss: video AUC below :data:`WEAK_AUC` (0.7)."""
    return [_family_name(row) for row in rows if float(row["video_auc"]) < WEAK_AUC]


def unproven(rows: list[dict[str, Any]]) -> list[str]:
    """Families scored at or above :data:`WEAK_AUC` on too few clips to tell: the 95% CI of the video AUC
    reaches chance (0.5), or, without a CI, fewer than :data:`MIN_CLIPS_WITHOUT_CI` fake clips."""
    names = []
    for row in rows:
        if float(row["video_auc"]) < WEAK_AUC:
            continue
        ci = row.get("video_auc_ci95")
        if isinstance(ci, list | tuple) and len(ci) == 2 and _number(ci[0]):
            too_few = float(ci[0]) <= CHANCE_AUC
        else:
            too_few = int(row.get("clips", 0)) < MIN_CLIPS_WITHOUT_CI
        if too_few:
            names.append(_family_name(row))
    return names


def coverage_line(metrics: Mapping[str, Any]) -> str:
    """One line: what the model was tested on, how well (video AUC per family), which kinds it misses.

    ``Tested on held-out clips (video AUC, 0.5 = chance): face swap 0.88 (13 fakes), talking head 0.35
    (21 fakes); known to miss: talking head (AUC < 0.7); too few clips to tell: roop (95% CI reaches 0.5)``.
    """
    rows = evaluation_rows(metrics)
    if not rows:
        return "This model carries no evaluation: nothing says which kinds of fakes it detects."
    ordered = sorted(rows, key=lambda row: (_KIND_ORDER.get(str(row.get("kind")), 3), -float(row["video_auc"])))
    tested = ", ".join(f"{_family_name(row)} {float(row['video_auc']):.2f} ({_clips(row)})" for row in ordered)
    misses = known_misses(ordered)
    line = f"Tested on held-out clips (video AUC, 1 = perfect, 0.5 = chance): {tested}; known to miss: "
    line += f"{', '.join(misses)} (AUC < {WEAK_AUC})" if misses else "none of these"
    few = unproven(ordered)
    if few:
        line += f"; too few clips to tell: {', '.join(few)} (95% CI reaches 0.5)"
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


_KIND_ORDER = {"provided": 0, "held-out": 1, "synthetic": 2}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _family_name(row: Mapping[str, Any]) -> str:
    return str(row["family"]).replace("_", " ")


def _clips(row: Mapping[str, Any]) -> str:
    clips = int(row.get("clips", 0))
    kind = str(row.get("kind", "provided"))
    text = f"{clips} fake{'' if clips == 1 else 's'}"
    if kind == "synthetic":
        return f"{text}, synthetic"
    if kind == "held-out":
        return f"{text}, never trained on"
    return text


def _eces(metrics: Mapping[str, Any]) -> list[float]:
    return [float(row["ece"]) for row in evaluation_rows(metrics) or [] if _number(row.get("ece"))]
