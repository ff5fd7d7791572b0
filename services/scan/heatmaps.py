"""Heatmaps of a finished scan: the explainer of the detector's architecture over its most suspicious windows.

Each architecture names its explainer here (CNN detectors: Grad-CAM at the backbone's last
convolution; the CLIP ViT-B/16 heads: token gradients); an architecture without one gets
:class:`NoExplainer`, and its reports carry no heatmaps rather than a map of the wrong layer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from models.clip_detector import EXPERTS, PROBE
from models.legacy import ARCHITECTURE as LEGACY
from models.native import ARCHITECTURE as NATIVE
from models.spec import ModelSpec
from services.scan.explain import (
    Bounds,
    Explainer,
    Explanation,
    pick_windows,
    read_crops,
    read_crops_seeking,
    window_boxes,
)
from services.scan.gradcam import Embed, GradCam
from services.scan.scan import ScanResult
from services.scan.token_relevance import TokenRelevance

ExplainerFactory = Callable[[nn.Module, ModelSpec, torch.device, Embed | None], Explainer]


class NoExplainer(ValueError):
    """The detector's architecture has no explainer; one line."""


def _token_relevance(model: nn.Module, spec: ModelSpec, device: torch.device, embed: Embed | None) -> Explainer:
    del embed  # one crop per window goes through the tower with gradients: nothing to embed without them
    return TokenRelevance(model, spec, device)


EXPLAINERS: dict[str, ExplainerFactory] = {
    "cnn_lstm": GradCam,
    LEGACY: GradCam,
    NATIVE: GradCam,
    PROBE: _token_relevance,
    EXPERTS: _token_relevance,
}


def explainer_for(model: nn.Module, spec: ModelSpec, device: torch.device, embed: Embed | None = None) -> Explainer:
    """The explainer of ``spec.architecture`` for ``model`` (``embed``: the engine's scorer, for the crops an
    explainer needs without gradients); NoExplainer when the architecture has none."""
    factory = EXPLAINERS.get(spec.architecture)
    if factory is None:
        raise NoExplainer(f"no heatmaps for architecture {spec.architecture!r} (explained: {', '.join(EXPLAINERS)})")
    return factory(model, spec, device, embed)


def explain(path: Path, result: ScanResult, explainer: Explainer, spec: ModelSpec, count: int) -> list[Explanation]:
    """Heatmaps of the ``count`` most suspicious windows of a finished scan, decoding only around those
    windows where the file has timestamps (and only their last frames for an explainer that reads one crop)."""
    chosen = [(v, window_boxes(result, v)) for v in pick_windows(result.verdicts, count)]
    chosen = [(v, boxes if explainer.whole_window else boxes[-1:]) for v, boxes in chosen if boxes]
    if not chosen:
        return []
    wanted: dict[int, list[Bounds]] = {}
    for _, boxes in chosen:
        for index, box in boxes:
            wanted.setdefault(index, []).append(box)
    crops = None
    if result.first_pts_s is not None:
        times = {frame.index: frame.pts_s for frame in result.frames if frame.index in wanted}
        crops = read_crops_seeking(path, wanted, times, result.first_pts_s, spec)
    if crops is None:
        crops = read_crops(path, wanted, spec)
    explanations = []
    for verdict, boxes in chosen:
        window = [crops[item] for item in boxes]
        index, box = boxes[-1]
        heatmap = explainer(window)[0]
        explanations.append(Explanation(verdict, index, box, window[-1].crop, heatmap, explainer.method))
    return explanations
