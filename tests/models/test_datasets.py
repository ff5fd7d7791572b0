"""Windows over cached clips, the training mix, and window-consistent augmentation."""

from __future__ import annotations

import numpy as np

from models.data.augment import augment_window, identity_params, sample_augment_params
from models.data.datasets import KINDS, CachedClip, MixConfig, SynthesisWindowDataset
from tests.support.synthetic_faces import face_crop


def clip(clip_id: str, identity: str, segments: list[int], label: str = "real", method: str = "none") -> CachedClip:
    crop, points = face_crop(64, seed=len(clip_id))
    count = len(segments)
    entry = {"clip_id": clip_id, "identity": identity, "label": label, "method": method}
    return CachedClip(entry, np.stack([crop] * count), np.stack([points] * count), np.array(segments))


def test_windows_stay_inside_segments() -> None:
    cached = clip("a", "p", [0, 0, 0, 1, 1, 1, 1, 1])
    assert cached.window_starts(4) == [0, 3, 4]
    assert list(cached.window_indices(0, 4)) == [0, 1, 2, 0]  # short segment repeats, never crosses
    assert list(cached.window_indices(3, 4)) == [3, 4, 5, 6]
    still = clip("s", "q", [0])
    assert list(still.window_indices(0, 3)) == [0, 0, 0]


def test_mix_keeps_real_fake_balance_and_is_reproducible() -> None:
    bank = {c.clip_id: c for c in (clip("a", "p", [0] * 4), clip("bb", "q", [0] * 4), clip("f", "r", [0] * 4, "fake"))}
    dataset = SynthesisWindowDataset(bank, ["a", "bb"], ["f"], 2, 48, (0.5,) * 3, (0.5,) * 3, epoch_size=200)
    kinds = [dataset.sample(i)[2] for i in range(200)]
    labels = [dataset.sample(i)[1] for i in range(200)]
    assert set(kinds) == set(range(len(KINDS)))
    assert 0.38 < np.mean(labels) < 0.62
    window = dataset[7][0]
    assert window.shape == (2, 3, 48, 48)
    again = dataset[7][0]
    assert np.array_equal(window.numpy(), again.numpy())
    dataset.set_epoch(1)
    assert not np.array_equal(window.numpy(), dataset[7][0].numpy())
    probabilities = MixConfig().probabilities(has_swap=False, has_provided=False)
    assert probabilities[0] == 0.5 and probabilities[1] == 0.5


def test_augmentation_is_shared_across_a_window() -> None:
    crop, _ = face_crop(96)
    window = np.stack([crop] * 3)
    params = sample_augment_params(np.random.default_rng(4))
    out = augment_window(window, params, 64)
    assert out.shape == (3, 64, 64, 3) and out.dtype == np.uint8
    assert np.array_equal(out[0], out[2])
    np.testing.assert_array_equal(augment_window(window, identity_params(), 96)[0], crop)


def test_provided_fakes_are_balanced_by_method_family() -> None:
    swaps = [clip("s" * (i + 1), f"p{i}", [0] * 2, "fake", f'face swap: X (model "{i}")') for i in range(6)]
    talker = clip("t" * 20, "t", [0] * 2, "fake", "talking head: Y (demo)")
    bank = {c.clip_id: c for c in (clip("a", "p", [0] * 2), *swaps, talker)}
    mix = MixConfig(self_blend=0.0, swap=0.0, provided_fake=0.5)
    fakes = [c.clip_id for c in (*swaps, talker)]
    dataset = SynthesisWindowDataset(bank, ["a"], fakes, 1, 48, (0.5,) * 3, (0.5,) * 3, epoch_size=400, mix=mix)
    provided = [crops for crops, label, _ in map(dataset.sample, range(400)) if label == 1]
    from_talker = [np.array_equal(crops[0], talker.crops[0]) for crops in provided]
    assert len(provided) > 150
    assert 0.4 < np.mean(from_talker) < 0.6  # one clip of its family against six swaps of theirs


def test_paired_items_are_a_real_window_and_a_fake_of_the_same_crops() -> None:
    bank = {c.clip_id: c for c in (clip("a", "p", [0] * 4), clip("bb", "q", [0] * 4), clip("f", "r", [0] * 4, "fake"))}
    dataset = SynthesisWindowDataset(
        bank, ["a", "bb"], ["f"], 2, 64, (0.5,) * 3, (0.5,) * 3, epoch_size=60, augment=False, paired=True
    )
    kinds = set()
    for index in range(60):
        real, fake, kind = dataset.sample_pair(index)
        kinds.add(KINDS[kind])
        assert kind != KINDS.index("real")
        assert any(np.array_equal(real, bank[c].crops[:2]) for c in ("a", "bb"))
        if KINDS[kind] == "provided_fake":
            assert np.array_equal(fake, bank["f"].crops[:2])
        else:  # made from the real window itself: same background, a changed face
            assert np.array_equal(real[:, :4, :4], fake[:, :4, :4])
            assert not np.array_equal(real, fake)
    assert kinds == {"self_blend", "swap", "provided_fake"}
    windows, labels, item_kinds = dataset[3]
    assert windows.shape == (2, 2, 3, 64, 64)
    assert labels.tolist() == [0.0, 1.0] and item_kinds[0] == 0
