"""The shipped default checkpoint: small, calibrated, and it tells a held-out real clip from its live swap.

Crops are made the way the live engine makes them (HOG detector, ``square_crop`` at the spec's
margin and input size), from a DeepFaceLive pair whose identity was held out of training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.calibration import sigmoid
from models.data.datasets import to_tensor
from models.data.prepare import decode_frames
from models.registry import DEFAULT_CHECKPOINT, LoadedModel, load_model
from tests.support.data import shared_clip

HELD_OUT_PAIR = "iperov__DeepFaceLive__Kim_Jarrey_0_"  # identity in the test split (models.data.splits, seed 0)


@pytest.fixture(scope="module")
def shipped() -> LoadedModel:
    if not DEFAULT_CHECKPOINT.is_file():
        pytest.skip(f"no shipped checkpoint at {DEFAULT_CHECKPOINT}")
    return load_model(DEFAULT_CHECKPOINT)


def live_engine_window(path: Path, loaded: LoadedModel) -> torch.Tensor:
    """The first ``spec.window`` face crops of a clip, cropped like the live engine, as a (1, T, 3, H, W) batch."""
    from realtime.faces.crops import eye_angle_deg, square_crop
    from realtime.faces.detector import FaceDetector

    spec = loaded.spec
    detector = FaceDetector(model="hog", max_side=640)
    crops = []
    for _, frame in decode_frames(path, set(range(120))):
        faces = detector.detect(frame)
        if faces:
            angle = eye_angle_deg(faces[0].landmarks) if spec.aligned else 0.0
            crops.append(square_crop(frame, faces[0].box, spec.crop_margin, spec.input_size, angle))
        if len(crops) == spec.window:
            break
    assert len(crops) == spec.window, f"too few faces found in {path}"
    return to_tensor(np.stack(crops), spec.mean, spec.std)[None]


def test_checkpoint_is_small_trained_and_calibrated(shipped: LoadedModel) -> None:
    assert DEFAULT_CHECKPOINT.stat().st_size <= 25 * 1024 * 1024
    spec = shipped.spec
    assert spec.trained and spec.training_data
    assert 0.5 <= spec.threshold < 1.0 and spec.temperature > 0
    assert spec.metrics["val_video_auc"] > 0.8


@pytest.mark.slow
def test_scores_real_and_fake_clip(shipped: LoadedModel) -> None:
    real = shared_clip("real", HELD_OUT_PAIR)
    fake = shared_clip("fake", HELD_OUT_PAIR)
    with torch.no_grad():
        real_p = float(sigmoid(shipped.model(live_engine_window(real, shipped)).numpy() / shipped.spec.temperature)[0])
        fake_p = float(sigmoid(shipped.model(live_engine_window(fake, shipped)).numpy() / shipped.spec.temperature)[0])
    assert 0.0 <= real_p <= 1.0 and 0.0 <= fake_p <= 1.0
    assert fake_p > real_p
    assert real_p < shipped.spec.threshold
