"""Self-blending and face swaps: shapes, masks, untouched real pixels, window consistency."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.support.synthetic_faces import face_crop
from training.data.synthesis import (
    face_mask,
    face_swap,
    face_swap_window,
    sample_blend_params,
    self_blend,
    self_blend_window,
)

SIZE = 96


def test_self_blend_shapes_and_untouched_outside_mask() -> None:
    image, points = face_crop(SIZE)
    for seed in range(20):
        params = sample_blend_params(np.random.default_rng(seed))
        fake, mask = self_blend(image, points, params)
        assert fake.shape == image.shape and fake.dtype == np.uint8
        assert mask.shape == (SIZE, SIZE) and mask.dtype == np.float32
        assert mask.min() >= 0.0 and mask.max() <= 1.0
        outside = mask == 0
        assert outside[0, 0] and outside[-1, -1], "corners far from the face must stay real"
        np.testing.assert_array_equal(fake[outside], image[outside])
        assert mask.max() > 0.4, "the mask must cover the face"


def test_self_blend_changes_pixels_inside_mask() -> None:
    image, points = face_crop(SIZE)
    params = replace(sample_blend_params(np.random.default_rng(3)), blend_ratio=1.0, hsv_shift=(0.0, 0.0, 25.0))
    fake, mask = self_blend(image, points, params)
    inside = mask > 0.9
    assert inside.sum() > 500
    assert np.abs(fake[inside].astype(int) - image[inside].astype(int)).mean() > 5


def test_mask_kinds_differ_and_follow_landmarks() -> None:
    image, points = face_crop(SIZE)
    base = replace(sample_blend_params(np.random.default_rng(0)), warp_amplitude=0.0, morph_px=0, blend_ratio=1.0)
    areas = {
        hull: face_mask(image.shape[:2], points, replace(base, hull=hull)).sum()
        for hull in ("full", "inner", "extended")
    }
    assert areas["inner"] < areas["full"] < areas["extended"]
    shifted = face_mask(image.shape[:2], points + np.array([10.0, 0.0]), replace(base, hull="full"))
    original = face_mask(image.shape[:2], points, replace(base, hull="full"))
    # The mask's centre of mass moves with the landmarks.
    columns = np.arange(SIZE)
    centre = (original.sum(0) * columns).sum() / original.sum()
    moved = (shifted.sum(0) * columns).sum() / shifted.sum()
    assert abs(moved - centre - 10.0) < 1.5


def test_window_uses_one_parameter_set() -> None:
    image, points = face_crop(SIZE)
    window = np.stack([image] * 4)
    landmarks = np.stack([points] * 4)
    params = sample_blend_params(np.random.default_rng(5))
    fakes, masks = self_blend_window(window, landmarks, params)
    assert fakes.shape == (4, SIZE, SIZE, 3) and masks.shape == (4, SIZE, SIZE)
    for index in range(1, 4):
        np.testing.assert_array_equal(fakes[index], fakes[0])
        np.testing.assert_array_equal(masks[index], masks[0])


def test_face_swap_pastes_donor_inside_mask_only() -> None:
    target, target_points = face_crop(SIZE, seed=1)
    donor, donor_points = face_crop(SIZE, seed=2, shift=(4.0, -3.0))
    params = replace(sample_blend_params(np.random.default_rng(7)), blend_ratio=1.0)
    fake, mask = face_swap(target, target_points, donor, donor_points, params)
    assert fake.shape == target.shape
    outside = mask == 0
    np.testing.assert_array_equal(fake[outside], target[outside])
    assert not np.array_equal(fake[mask > 0.9], target[mask > 0.9])
    fakes, masks = face_swap_window(
        np.stack([target] * 3), np.stack([target_points] * 3), donor[None], donor_points[None], params
    )
    assert fakes.shape == (3, SIZE, SIZE, 3) and masks.shape == (3, SIZE, SIZE)
