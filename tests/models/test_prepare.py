"""Crop-cache extraction: frame sampling, and crops identical to the live engine's on real clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.data.prepare import CropExtractor, PrepareConfig, decode_frames, extract_clip, sampled_frame_indices
from models.data.readers import MediaRecord
from tests.support.data import shared_clip


def test_sampled_frame_indices() -> None:
    assert sampled_frame_indices(100, 16, 3) == [list(range(0, 16)), list(range(42, 58)), list(range(84, 100))]
    assert sampled_frame_indices(10, 16, 4) == [list(range(10))]
    assert sampled_frame_indices(32, 16, 6) == [list(range(16)), list(range(16, 32))]
    assert sampled_frame_indices(0, 16, 4) == []


@pytest.mark.slow
def test_extracted_crops_match_live_engine_crops() -> None:
    from realtime.faces.crops import square_crop
    from realtime.faces.detector import FaceDetector

    path = shared_clip("real", "OpenTalker__video-retalking")
    record = MediaRecord(Path(path), "real", "video", "none", "test", "test", "g", "i")
    config = PrepareConfig(crop_size=128, segment_length=4, segments_per_video=2)
    arrays = extract_clip(CropExtractor(config), record)
    assert arrays is not None
    crops, landmarks = arrays["crops"], arrays["landmarks"]
    assert crops.shape == (8, 128, 128, 3) and crops.dtype == np.uint8
    assert landmarks.shape == (8, 68, 2)
    assert list(arrays["segment"]) == [0] * 4 + [1] * 4
    # Landmarks sit on the face in the middle of the crop.
    assert np.all((landmarks > 5) & (landmarks < 123))
    assert np.abs(landmarks.mean(axis=1) - 64).max() < 20
    first_index = int(arrays["frame_index"][0])
    frame = next(frame for index, frame in decode_frames(Path(path), {first_index}))
    face = FaceDetector(model="hog", max_side=config.detector_max_side).detect(frame)[0]
    np.testing.assert_array_equal(crops[0], square_crop(frame, face.box, config.crop_margin, 128))
