"""Grad-CAM points at the region that drives the score; explained windows are the most suspicious ones."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from models.checkpoint import ModelSpec
from realtime.frames import Verdict
from realtime.scan.explain import GradCam, pick_windows


class RedDetector(nn.Module):
    """A toy detector whose logit is the mean 'redness' of each crop: the evidence sits where the red is."""

    def __init__(self) -> None:
        super().__init__()
        conv = nn.Conv2d(3, 2, kernel_size=1)
        with torch.no_grad():
            conv.weight.copy_(torch.tensor([[1.0, -1.0, -1.0], [0.0, 0.0, 0.0]]).view(2, 3, 1, 1))
            conv.bias.zero_()
        self.backbone = nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def embed(self, crops: torch.Tensor) -> torch.Tensor:
        return self.backbone(crops)

    def score_features(self, features: torch.Tensor) -> torch.Tensor:
        return features[..., 0].mean(dim=1)


def test_grad_cam_lights_up_the_region_that_raises_the_score():
    spec = ModelSpec(input_size=64, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    crops = []
    for corner in ((0, 0), (32, 32)):
        crop = np.full((64, 64, 3), 100, dtype=np.uint8)
        crop[corner[0] : corner[0] + 24, corner[1] : corner[1] + 24] = (250, 10, 10)
        crops.append(crop)
    model = RedDetector()
    before = [p.clone() for p in model.parameters()]
    cam = GradCam(model, spec, torch.device("cpu"))
    heat = cam(crops, explained=(0, 1))
    assert cam(crops).shape == (1, 64, 64) and np.allclose(cam(crops)[0], heat[1] / heat[1].max(), atol=1e-5)
    assert heat.shape == (2, 64, 64) and heat.min() >= 0.0 and heat.max() <= 1.0 and heat.max() > 0.9
    assert heat[0, :24, :24].mean() > 5 * heat[0, 40:, 40:].mean()
    assert heat[1, 36:56, 36:56].mean() > 5 * heat[1, :24, :24].mean()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))  # model untouched


def verdict(track_id: int, first: int, last: int, p_fake: float) -> Verdict:
    return Verdict("clip", track_id, first, last, first / 25, last / 25, last - first + 1, p_fake, "fake", 1.0)


def test_pick_windows_takes_the_highest_scores_without_overlap_within_a_face():
    verdicts = [
        verdict(1, 0, 15, 0.90),
        verdict(1, 3, 18, 0.95),  # overlaps the 0.90 one: only the higher is kept
        verdict(2, 3, 18, 0.80),  # another face at the same time counts on its own
        verdict(1, 30, 45, 0.70),
        verdict(1, 60, 75, 0.20),
    ]
    picked = pick_windows(verdicts, 3)
    assert [(v.track_id, v.first_frame, v.p_fake) for v in picked] == [(1, 3, 0.95), (2, 3, 0.80), (1, 30, 0.70)]
    assert pick_windows(verdicts, 0) == []
