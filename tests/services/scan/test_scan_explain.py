"""Grad-CAM points at the region that drives the score; explained windows are the most suspicious ones."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

from faces.crops import FaceImages
from models.checkpoint import ModelSpec
from realtime.frames import Verdict
from realtime.sources.av_source import AvSource
from services.scan.explain import contiguous_runs, pick_windows, read_crops, read_crops_seeking
from services.scan.gradcam import GradCam


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
    crops = [FaceImages(crop) for crop in crops]
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


def test_grad_cam_with_engine_features_matches_its_own_backbone():
    spec = ModelSpec(input_size=32, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    rng = np.random.default_rng(3)
    crops = [FaceImages(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)) for _ in range(4)]
    model = RedDetector()

    @torch.inference_mode()
    def engine_embed(batch: list[np.ndarray], canvases: list[np.ndarray] | None) -> np.ndarray:
        assert canvases is None  # this detector reads crops only
        tensor = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float().div(255.0)
        return model.embed(tensor).numpy()

    own = GradCam(model, spec, torch.device("cpu"))(crops, explained=(1, 3))
    engine = GradCam(model, spec, torch.device("cpu"), engine_embed)(crops, explained=(1, 3))
    np.testing.assert_allclose(engine, own, atol=1e-5)


def test_seeking_reader_cuts_the_same_crops_as_decoding_from_the_start(one_face_clip: Path):
    source = AvSource(str(one_face_clip), live=False)
    source.open()
    times = {frame.index: frame.pts_s for frame in source.frames(threading.Event())}
    first_pts_s = source.first_pts_s
    source.close()
    assert first_pts_s is not None and len(times) == 75
    box = (180.0, 60.0, 380.0, 260.0)
    wanted = {index: [box] for index in [*range(30, 36), *range(60, 66)]}  # two runs, past keyframes
    spec = ModelSpec(input_size=64)
    sequential = read_crops(one_face_clip, wanted, spec)
    seeking = read_crops_seeking(one_face_clip, wanted, times, first_pts_s, spec)
    assert seeking is not None and seeking.keys() == sequential.keys() and len(seeking) == 12
    for key, faces in sequential.items():
        np.testing.assert_array_equal(seeking[key].crop, faces.crop)
    half_frame_off = {index: t + 0.02 for index, t in times.items()}
    assert read_crops_seeking(one_face_clip, wanted, half_frame_off, first_pts_s, spec) is None
    assert contiguous_runs([1, 2, 3, 50, 51]) == [[1, 2, 3], [50, 51]]


def test_a_model_without_an_explainer_gets_reports_without_heatmaps_and_one_warning(
    one_face_clip: Path, small_checkpoint: Path, tmp_path: Path, monkeypatch, capsys
):
    from services.scan import heatmaps
    from services.scan.reports import report_paths
    from tests.services.scan.scanning import make_scanner

    monkeypatch.delitem(heatmaps.EXPLAINERS, "cnn_lstm")
    scanner = make_scanner(small_checkpoint, stride=2)
    for _ in range(2):
        outcome = scanner.scan(one_face_clip, report_paths(one_face_clip, tmp_path), write=lambda *_: None)
        assert outcome.status == "scanned" and outcome.report["explanations"] == [] and outcome.result.verdicts
        scanner.rescan = True
    warnings = [line for line in capsys.readouterr().err.splitlines() if "heatmaps" in line]
    assert warnings == [
        "warning: no heatmaps for architecture 'cnn_lstm' (explained: legacy_resnext_lstm, "
        "cnn_npr_lstm, clip_vit_b16_probe, clip_vit_b16_experts); reports have none"
    ]
