"""Windows over cached clips, the pair mix, evaluation windows, and window-consistent augmentation."""

from __future__ import annotations

import collections

import numpy as np

from tests.support.synthetic_faces import face_crop
from tests.training.training_data import clip_entry
from training.data.augment import augment_window, identity_params, sample_augment_params
from training.data.datasets import PROVIDED, CachedClip, ModelInputs, PairDataset, PairMix, evaluation_windows

INPUTS = ModelInputs(32, (0.5,) * 3, (0.5,) * 3)


def clip(
    clip_id: str, identity: str, segments: list[int], label: str = "real", method: str = "none", group: str = ""
) -> CachedClip:
    crop, points = face_crop(64, seed=len(clip_id))
    count = len(segments)
    entry = clip_entry(clip_id, label, method, identity, group, crops=count)
    return CachedClip(
        entry, np.stack([crop] * count), np.full(count, 50.0), np.stack([points] * count), np.array(segments)
    )


def test_windows_stay_inside_segments() -> None:
    cached = clip("a", "p", [0, 0, 0, 1, 1, 1, 1, 1])
    assert cached.window_starts(4) == [0, 3, 4]
    assert list(cached.window_indices(0, 4)) == [0, 1, 2, 0]  # short segment repeats, never crosses
    assert list(cached.window_indices(3, 4)) == [3, 4, 5, 6]
    still = clip("s", "q", [0])
    assert list(still.window_indices(0, 3)) == [0, 0, 0]


def test_pairs_are_reproducible_and_change_with_the_epoch() -> None:
    bank = {c.clip_id: c for c in (clip("a", "p", [0] * 4), clip("bb", "q", [0] * 4), clip("f", "r", [0] * 4, "fake"))}
    dataset = PairDataset(bank, ["a", "bb"], ["f"], 2, INPUTS, epoch_size=40)
    first = dataset[7]
    assert first["crops"].shape == (2, 2, 3, 32, 32) and first["labels"].tolist() == [0.0, 1.0]
    np.testing.assert_array_equal(first["crops"].numpy(), dataset[7]["crops"].numpy())
    dataset.set_epoch(1)
    assert not np.array_equal(first["crops"].numpy(), dataset[7]["crops"].numpy())
    assert PROVIDED in dataset.kinds and "rerender_whole" not in dataset.kinds  # no autoencoder bank given


def test_provided_fakes_are_drawn_method_first_and_meet_their_own_footage() -> None:
    swaps = [clip("s" * (i + 1), f"p{i}", [0] * 2, "fake", f'face swap: X (model "{i}")') for i in range(6)]
    talker = clip("t" * 20, "t", [0] * 2, "fake", "talking head: Y (demo)", group="twin")
    twin = clip("twin_real", "t", [0] * 2, group="twin")
    bank = {c.clip_id: c for c in (clip("a", "p", [0] * 2), twin, *swaps, talker)}
    mix = PairMix(families=(), provided=1.0)
    dataset = PairDataset(bank, ["a", "twin_real"], [c.clip_id for c in (*swaps, talker)], 1, INPUTS, 300, mix=mix)
    pairs = [dataset.sample_pair(i) for i in range(300)]
    talking = [p for p in pairs if np.array_equal(p.fake, talker.crops[:1])]
    assert 0.35 < len(talking) / len(pairs) < 0.65  # one method of two, though six clips are swaps
    assert all(np.array_equal(p.real, twin.crops[:1]) for p in talking)  # paired with its real twin


def test_evaluation_windows_add_a_clip_consistent_fake_of_every_real_window() -> None:
    bank = {c.clip_id: c for c in (clip("a", "p", [0] * 6 + [1] * 6), clip("f", "r", [0] * 6, "fake"))}
    windows = list(evaluation_windows(bank, ["a", "f"], 4, 2, families=("self_blend", "mouth_blend")))
    counts = collections.Counter((w.clip_id, w.kind) for w in windows)
    assert counts == {
        ("a", "real"): 2,
        ("a#self_blend", "self_blend"): 2,
        ("a#mouth_blend", "mouth_blend"): 2,
        ("f", PROVIDED): 2,
    }
    again = list(evaluation_windows(bank, ["a"], 4, 2, families=("self_blend",)))
    fakes = [w.canvases for w in windows if w.kind == "self_blend"]
    np.testing.assert_array_equal(fakes[0], next(w.canvases for w in again if w.kind == "self_blend"))


def test_augmentation_is_shared_across_a_window_and_keeps_native_pixels() -> None:
    crop, _ = face_crop(96)
    window = np.stack([crop] * 3)
    params = sample_augment_params(np.random.default_rng(4))
    out = augment_window(window, params)
    assert out.shape == window.shape and out.dtype == np.uint8
    assert np.array_equal(out[0], out[2])
    np.testing.assert_array_equal(augment_window(window, identity_params())[0], crop)
    mask = np.zeros((3, 96, 96, 1), np.float32)
    mask[:, 40:50, 40:50] = 1.0
    moved = augment_window(mask, params, colour=False)
    assert moved.sum() == mask.sum()  # a whole-pixel shift and a mirror move the mask, they do not resample it
