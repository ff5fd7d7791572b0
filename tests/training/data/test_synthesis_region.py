"""Region blends: masks on the right landmarks, real pixels outside, lower detail inside, one factor per window."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from tests.support.synthetic_faces import face_crop
from training.data.synthesis_region import (
    EYES,
    MOUTH,
    eyes_blend_window,
    mouth_blend_window,
    region_mask,
    sample_eyes_params,
    sample_mouth_params,
)

SIZE = 112


def translated_window(shifts: list[tuple[int, int]], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One drawn face moved by whole-pixel ``shifts``: frames and landmarks move together."""
    image, points = face_crop(SIZE, seed)
    frames = [
        cv2.warpAffine(image, np.float32([[1, 0, dx], [0, 1, dy]]), (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)
        for dx, dy in shifts
    ]
    return np.stack(frames), np.stack([points + np.float32(shift) for shift in shifts])


def hull_area(points: np.ndarray, size: int) -> np.ndarray:
    area = np.zeros((size, size), dtype=np.uint8)
    cv2.fillConvexPoly(area, cv2.convexHull(points.astype(np.int32)), 1)
    return area.astype(bool)


def laplacian_variance(image: np.ndarray, area: np.ndarray) -> float:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(cv2.Laplacian(grey, cv2.CV_32F)[area].var())


@pytest.mark.parametrize(
    ("sample", "blend_window"), [(sample_mouth_params, mouth_blend_window), (sample_eyes_params, eyes_blend_window)]
)
def test_shapes_mask_range_and_real_pixels_outside(sample, blend_window) -> None:
    crops, landmarks = translated_window([(0, 0), (2, -1)])
    for seed in range(12):
        fake, mask = blend_window(crops, landmarks, sample(np.random.default_rng(seed)))
        assert fake.shape == crops.shape and fake.dtype == np.uint8
        assert mask.shape == crops.shape[:3] and mask.dtype == np.float32
        assert mask.min() >= 0.0 and mask.max() <= 1.0 and mask.max() > 0.8
        outside = mask == 0
        assert outside[:, 0, 0].all() and outside[:, -1, -1].all()
        np.testing.assert_array_equal(fake[outside], crops[outside])


@pytest.mark.parametrize("region", ["mouth", "lower_face"])
def test_mouth_blend_lowers_mouth_detail_and_leaves_eyes_alone(region: str) -> None:
    crops, landmarks = translated_window([(0, 0)])
    params = next(p for p in map(sample_mouth_params, map(np.random.default_rng, range(50))) if p.region == region)
    params = replace(params, factor=3.0, blend_ratio=1.0)
    fake, mask = mouth_blend_window(crops, landmarks, params)
    mouth = hull_area(landmarks[0][MOUTH], SIZE)
    assert laplacian_variance(fake[0], mouth) < 0.3 * laplacian_variance(crops[0], mouth)
    for eye in EYES:
        eye_area = hull_area(landmarks[0][eye], SIZE)
        assert mask[0][eye_area].max() == 0.0
        np.testing.assert_array_equal(fake[0][eye_area], crops[0][eye_area])


def test_eyes_blend_lowers_eye_detail_and_leaves_mouth_alone() -> None:
    crops, landmarks = translated_window([(0, 0)])
    params = replace(sample_eyes_params(np.random.default_rng(2)), factor=3.5, blend_ratio=1.0)
    fake, mask = eyes_blend_window(crops, landmarks, params)
    eye_area = hull_area(landmarks[0][EYES[0]], SIZE) | hull_area(landmarks[0][EYES[1]], SIZE)
    assert laplacian_variance(fake[0], eye_area) < 0.5 * laplacian_variance(crops[0], eye_area)
    mouth = hull_area(landmarks[0][MOUTH], SIZE)
    assert mask[0][mouth].max() == 0.0
    np.testing.assert_array_equal(fake[0][mouth], crops[0][mouth])


def test_one_parameter_set_moves_with_the_face() -> None:
    """A face translated by whole pixels gets the same fake and mask, translated: same factor, same mask."""
    shifts = [(0, 0), (3, 2), (-4, 1)]
    crops, landmarks = translated_window(shifts)
    params = sample_mouth_params(np.random.default_rng(4))
    fake, mask = mouth_blend_window(crops, landmarks, params)
    inner = slice(8, SIZE - 8)
    for index, (dx, dy) in enumerate(shifts[1:], start=1):
        moved_fake = np.roll(fake[0], (dy, dx), axis=(0, 1))
        moved_mask = np.roll(mask[0], (dy, dx), axis=(0, 1))
        np.testing.assert_array_equal(fake[index][inner, inner], moved_fake[inner, inner])
        np.testing.assert_allclose(mask[index][inner, inner], moved_mask[inner, inner], atol=1e-6)
    other = mouth_blend_window(crops, landmarks, replace(params, factor=params.factor + 0.7))[0]
    assert not np.array_equal(other, fake), "the factor must matter, or the check above proves nothing"


def test_mask_follows_landmarks_of_each_frame() -> None:
    _, points = face_crop(SIZE)
    params = replace(sample_mouth_params(np.random.default_rng(0)), region="mouth", warp_amplitude=0.0)
    columns = np.arange(SIZE)
    centres = []
    for dx in (0.0, 7.0):
        mask = region_mask((SIZE, SIZE), points + np.float32([dx, 0.0]), params)
        centres.append((mask.sum(0) * columns).sum() / mask.sum())
    assert abs(centres[1] - centres[0] - 7.0) < 0.5


def test_parameters_are_deterministic_and_window_sized() -> None:
    assert sample_mouth_params(np.random.default_rng(9)) == sample_mouth_params(np.random.default_rng(9))
    params = [sample_mouth_params(np.random.default_rng(seed)) for seed in range(60)]
    assert {p.region for p in params} == {"mouth", "lower_face"}
    assert all(2.0 <= p.factor <= 4.0 for p in params)
    assert {p.upsample for p in params} == {cv2.INTER_LINEAR, cv2.INTER_CUBIC}
    assert {p.region for p in (sample_eyes_params(np.random.default_rng(s)) for s in range(30))} == {
        "eyes",
        "eyes_brows",
    }


def test_wrong_region_is_refused_and_small_crops_work() -> None:
    crops, landmarks = translated_window([(0, 0)])
    with pytest.raises(ValueError):
        mouth_blend_window(crops, landmarks, sample_eyes_params(np.random.default_rng(0)))
    image, points = face_crop(64)
    fake, mask = eyes_blend_window(image[None], points[None], sample_eyes_params(np.random.default_rng(0)))
    assert fake.shape == (1, 64, 64, 3) and mask.max() > 0
