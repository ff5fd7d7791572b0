"""Temporal fakes: motion driven by landmarks, frozen backgrounds, flicker, interpolated frames."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from tests.support.synthetic_faces import face_crop
from training.data.synthesis import sample_blend_params, self_blend_window
from training.data.synthesis_temporal import (
    InterpolationParams,
    flicker_window,
    frozen_background_window,
    in_between,
    interpolated_window,
    one_shot_window,
    sample_flicker_params,
    sample_frozen_background_params,
    sample_interpolation_params,
    sample_one_shot_params,
)

SIZE = 112
CORNER = 12  # corner patches this wide are far from the drawn face


def translated_window(shifts: list[tuple[float, float]], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One drawn face and its background moved by ``shifts`` (a panning camera): frames and landmarks."""
    image, points = face_crop(SIZE, seed)
    frames = [
        cv2.warpAffine(image, np.float32([[1, 0, dx], [0, 1, dy]]), (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)
        for dx, dy in shifts
    ]
    return np.stack(frames), np.stack([points + np.float32(shift) for shift in shifts])


def corners(frame: np.ndarray) -> np.ndarray:
    return np.stack([frame[:CORNER, :CORNER], frame[:CORNER, -CORNER:], frame[-CORNER:, :CORNER]]).astype(int)


def dot_centre(frame: np.ndarray) -> np.ndarray:
    """Centroid (x, y) of the pure white pixels of a frame."""
    ys, xs = np.nonzero(frame.min(-1) > 245)
    return np.array([xs.mean(), ys.mean()])


def check_window(fake: np.ndarray, mask: np.ndarray, crops: np.ndarray) -> None:
    assert fake.shape == crops.shape and fake.dtype == np.uint8
    assert mask.shape == crops.shape[:3] and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0


def test_one_shot_moves_the_reference_with_each_frames_landmarks() -> None:
    shifts = [(0.0, 0.0), (5.0, -3.0), (-6.0, 4.0), (2.5, 6.0)]
    crops, landmarks = translated_window(shifts)
    reference = crops[0].copy()
    nose_tip = landmarks[0][30]
    cv2.circle(reference, (round(nose_tip[0]), round(nose_tip[1])), 2, (255, 255, 255), -1)
    crops[0] = reference
    params = replace(sample_one_shot_params(np.random.default_rng(0)), expression_amplitude=0.0)
    fake, mask = one_shot_window(crops, landmarks, params)
    check_window(fake, mask, crops)
    start = dot_centre(fake[0])
    for index, shift in enumerate(shifts):
        np.testing.assert_allclose(dot_centre(fake[index]) - start, shift, atol=0.75)
        assert mask[index][int(landmarks[index][30, 1]), int(landmarks[index][30, 0])] > 0.9


def test_one_shot_keeps_the_reference_background() -> None:
    crops, landmarks = translated_window([(0.0, 0.0), (4.0, 2.0), (-3.0, 5.0)])
    fake, _ = one_shot_window(crops, landmarks, sample_one_shot_params(np.random.default_rng(1)))
    for index in (1, 2):
        assert np.abs(corners(crops[index]) - corners(crops[0])).mean() > 5, "the real background moves"
        assert np.abs(corners(fake[index]) - corners(fake[0])).max() <= 2
    assert not np.array_equal(fake[1], crops[1])


def test_frozen_background_keeps_frame_0_behind_each_frames_face() -> None:
    crops, landmarks = translated_window([(0.0, 0.0), (4.0, 2.0), (-3.0, 5.0)])
    fake, mask = frozen_background_window(crops, landmarks, sample_frozen_background_params(np.random.default_rng(2)))
    check_window(fake, mask, crops)
    for index in (1, 2):
        frozen = mask[index] == 1.0
        assert frozen[:CORNER, :CORNER].all()
        np.testing.assert_array_equal(fake[index][frozen], crops[0][frozen])
        own = mask[index] == 0.0
        assert own[int(landmarks[index][30, 1]), int(landmarks[index][30, 0])]
        np.testing.assert_array_equal(fake[index][own], crops[index][own])
        assert np.abs(corners(crops[index]) - corners(crops[0])).mean() > 5


def test_flicker_varies_more_from_frame_to_frame_than_a_self_blend() -> None:
    image, points = face_crop(SIZE, seed=3)
    crops, landmarks = np.stack([image] * 6), np.stack([points] * 6)

    def spread(fake: np.ndarray) -> float:
        per_frame = np.abs(fake.astype(float) - crops.astype(float)).mean(axis=(1, 2, 3))
        return float(per_frame.std())

    steady, _ = self_blend_window(crops, landmarks, sample_blend_params(np.random.default_rng(5)))
    flicker, mask = flicker_window(crops, landmarks, sample_flicker_params(np.random.default_rng(5), 6))
    check_window(flicker, mask, crops)
    assert spread(steady) < 1e-9
    assert spread(flicker) > 0.3
    outside = mask == 0
    np.testing.assert_array_equal(flicker[outside], crops[outside])


def test_interpolated_frame_lies_between_its_neighbours() -> None:
    """Uneven motion (0, 8, 10 px): the in-between is near 5 px, so it differs from the real frame at 8."""
    crops, landmarks = translated_window([(0.0, 0.0), (8.0, 0.0), (10.0, 0.0)])
    start = landmarks[0][30]
    for index in range(3):
        cv2.circle(crops[index], (round(start[0] + [0, 8, 10][index]), round(start[1])), 3, (255,) * 3, -1)
    params = InterpolationParams(replaced=(1,), method="flow", neighbour_offset=(2.0, 0.0))
    fake, mask = interpolated_window(crops, landmarks, params)
    check_window(fake, mask, crops)
    np.testing.assert_array_equal(mask[:, 0, 0], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(fake[[0, 2]], crops[[0, 2]])
    moved = dot_centre(fake[1])[0] - dot_centre(crops[0])[0]
    assert 2.5 < moved < 7.0
    assert np.abs(fake[1].astype(int) - crops[1].astype(int)).mean() > 3


def test_cross_fade_stays_between_the_neighbours_pixelwise() -> None:
    crops, _ = translated_window([(0.0, 0.0), (6.0, 3.0)])
    middle = in_between(crops[0], crops[1], 0.5, "average").astype(int)
    low, high = np.minimum(crops[0], crops[1]).astype(int), np.maximum(crops[0], crops[1]).astype(int)
    assert ((middle >= low) & (middle <= high)).all()


def test_interpolation_choices_keep_the_ends_original() -> None:
    for seed in range(40):
        params = sample_interpolation_params(np.random.default_rng(seed), 8)
        assert params.replaced and min(params.replaced) >= 1 and max(params.replaced) <= 6
    assert sample_interpolation_params(np.random.default_rng(0), 2).replaced == (0, 1)


@pytest.mark.parametrize(
    ("sample", "window"),
    [
        (sample_one_shot_params, one_shot_window),
        (sample_frozen_background_params, frozen_background_window),
        (lambda rng: sample_flicker_params(rng, 1), flicker_window),
        (lambda rng: sample_interpolation_params(rng, 1), interpolated_window),
    ],
)
def test_single_crops_still_give_a_fake(sample, window) -> None:
    image, points = face_crop(SIZE, seed=4)
    crops, landmarks = image[None], points[None]
    fake, mask = window(crops, landmarks, sample(np.random.default_rng(6)))
    check_window(fake, mask, crops)
    assert mask.max() > 0.5
    assert np.abs(fake.astype(int) - crops.astype(int)).max() > 20
    again, _ = window(crops, landmarks, sample(np.random.default_rng(6)))
    np.testing.assert_array_equal(again, fake)


def test_sampled_parameters_are_deterministic() -> None:
    for sample in (sample_one_shot_params, sample_frozen_background_params):
        assert sample(np.random.default_rng(8)) == sample(np.random.default_rng(8))
    assert sample_flicker_params(np.random.default_rng(8), 5) == sample_flicker_params(np.random.default_rng(8), 5)
    assert len(set(sample_flicker_params(np.random.default_rng(8), 5).frames)) == 5
