"""The aligned degradation chain: replayable, identical for twins, each step doing what it says."""

from __future__ import annotations

from dataclasses import fields, replace

import cv2
import numpy as np

from tests.support.synthetic_faces import face_crop
from training.data.degrade import (
    DegradeParams,
    degrade_window,
    h264_roundtrip,
    identity_degradation,
    jpeg_roundtrip,
    sample_degradation,
)
from training.data.synthesis import sample_blend_params, self_blend_window

SIZE = 96
EVERYTHING = DegradeParams(
    blur_sigma=1.0,
    noise_sigma=4.0,
    noise_seed=11,
    resize_factor=0.6,
    resize_down=cv2.INTER_AREA,
    resize_up=cv2.INTER_CUBIC,
    crf=30,
    preset="veryfast",
    jpeg_quality=70,
)


def window(count: int, seed: int = 0, size: int = SIZE) -> np.ndarray:
    return np.stack([face_crop(size, seed=seed, shift=(2.0 * t, -1.0 * t))[0] for t in range(count)])


def test_identity_returns_the_input_unchanged() -> None:
    frames = window(3)
    np.testing.assert_array_equal(degrade_window(frames, identity_degradation()), frames)


def test_same_params_replay_exactly() -> None:
    frames = window(4)
    first = degrade_window(frames, EVERYTHING)
    assert first.shape == frames.shape and first.dtype == np.uint8
    np.testing.assert_array_equal(degrade_window(frames.copy(), EVERYTHING), first)
    assert np.abs(first.astype(int) - frames.astype(int)).mean() > 2


def test_twins_get_the_same_noise_pattern() -> None:
    # Mid-range pixels, so that clipping at 0 or 255 cannot hide a difference in the noise.
    a = np.random.default_rng(1).integers(60, 190, size=(3, SIZE, SIZE, 3), dtype=np.uint8)
    b = np.random.default_rng(2).integers(60, 190, size=(3, SIZE, SIZE, 3), dtype=np.uint8)
    params = DegradeParams(noise_sigma=5.0, noise_seed=3)
    noise_a = degrade_window(a, params).astype(int) - a
    noise_b = degrade_window(b, params).astype(int) - b
    np.testing.assert_array_equal(noise_a, noise_b)
    assert noise_a.std() > 3
    other = degrade_window(a, replace(params, noise_seed=4)).astype(int) - a
    assert not np.array_equal(other, noise_a)


def test_real_and_fake_stay_equal_away_from_the_mask_except_for_codec_effects() -> None:
    real = window(4, seed=5)
    fake, mask = self_blend_window(
        real,
        np.stack([face_crop(SIZE, 5, (2.0 * t, -1.0 * t))[1] for t in range(4)]),
        replace(sample_blend_params(np.random.default_rng(0)), blend_ratio=1.0),
    )
    # Far from the mask: beyond the blur and resize kernels.
    far = cv2.dilate((mask > 0).astype(np.uint8).max(0), np.ones((17, 17), np.uint8)) == 0
    assert far.sum() > 1000
    spatial = replace(EVERYTHING, crf=None, jpeg_quality=None)
    np.testing.assert_array_equal(degrade_window(real, spatial)[:, far], degrade_window(fake, spatial)[:, far])
    real_out, fake_out = degrade_window(real, EVERYTHING), degrade_window(fake, EVERYTHING)
    outside = np.abs(real_out[:, far].astype(int) - fake_out[:, far].astype(int)).mean()
    inside = np.abs(real_out[:, mask.max(0) > 0.9].astype(int) - fake_out[:, mask.max(0) > 0.9].astype(int)).mean()
    assert outside < 1.5 and inside > 3 * outside


def test_h264_keeps_shape_changes_pixels_and_stays_close() -> None:
    frames = window(5, size=67)[:, :65]  # odd sides need padding for yuv420p
    decoded = h264_roundtrip(frames, crf=26, preset="ultrafast")
    assert decoded.shape == frames.shape and decoded.dtype == np.uint8
    error = np.abs(decoded.astype(int) - frames.astype(int))
    assert error.mean() > 0.5 and error.mean() < 12
    single = h264_roundtrip(frames[:1], crf=40, preset="veryfast")
    assert single.shape == frames[:1].shape


def test_jpeg_keeps_channel_order() -> None:
    red = np.zeros((32, 32, 3), dtype=np.uint8)
    red[..., 0] = 200
    decoded = jpeg_roundtrip(red, 90)
    assert decoded[..., 0].mean() > 180 and decoded[..., 2].mean() < 20


def test_sampling_is_deterministic_and_covers_every_step() -> None:
    assert sample_degradation(np.random.default_rng(4)) == sample_degradation(np.random.default_rng(4))
    samples = [sample_degradation(np.random.default_rng(seed)) for seed in range(300)]
    off = identity_degradation()
    for name in ("blur_sigma", "noise_sigma", "resize_factor", "crf", "jpeg_quality"):
        used = [getattr(p, name) != getattr(off, name) for p in samples]
        assert 0.1 < np.mean(used) < 0.9, name
    assert all(0.3 <= p.blur_sigma <= 2.0 for p in samples if p.blur_sigma)
    assert all(0.3 <= p.resize_factor <= 0.9 for p in samples if p.resize_factor < 1)
    assert all(18 <= p.crf <= 40 for p in samples if p.crf is not None)
    assert all(30 <= p.jpeg_quality <= 95 for p in samples if p.jpeg_quality is not None)
    assert {f.name for f in fields(DegradeParams)} >= {"noise_seed", "preset", "resize_down", "resize_up"}


def test_sampled_chains_keep_shape_for_single_crops_and_windows() -> None:
    for seed in range(6):
        params = sample_degradation(np.random.default_rng(seed))
        for count in (1, 3):
            frames = window(count, size=64)
            assert degrade_window(frames, params).shape == frames.shape
