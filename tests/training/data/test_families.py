"""The family registry: one signature, valid outputs, determinism, real pixels where the mask is 0."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from tests.support.data import REPO_ROOT
from tests.support.synthetic_faces import face_crop
from training.data.families import FAMILIES, SynthesisContext

SIZE = 96
LOCAL_EXCEPTIONS = {"one_shot"}  # re-synthesises the whole frame; its mask marks the animated face
PLAIN = [name for name, family in FAMILIES.items() if not family.needs_autoencoders]


def moving_window(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = [face_crop(SIZE, seed=seed, shift=(1.5 * t, -1.0 * t)) for t in range(count)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def context() -> SynthesisContext:
    return SynthesisContext(donor=moving_window(2, seed=9))


def test_registry_lists_every_family_with_its_needs() -> None:
    expected = {
        "self_blend",
        "swap",
        "mouth_blend",
        "eyes_blend",
        "one_shot",
        "frozen_background",
        "flicker",
        "interpolated",
        "rerender_whole",
        "rerender_blend",
        "mouth_rerender",
        "one_shot_rerender",
    }
    assert set(FAMILIES) == expected
    assert all(name == family.name and family.description for name, family in FAMILIES.items())
    assert [n for n, f in FAMILIES.items() if f.needs_donor] == ["swap"]
    assert {n for n, f in FAMILIES.items() if f.needs_autoencoders} == {
        "rerender_whole",
        "rerender_blend",
        "mouth_rerender",
        "one_shot_rerender",
    }
    # Added after the rotation's pairs were cached: outside the rotation, so those pairs keep their families.
    assert [n for n, f in FAMILIES.items() if not f.rotates] == ["mouth_rerender", "one_shot_rerender"]
    assert {n for n, f in FAMILIES.items() if f.temporal} == {
        "one_shot",
        "one_shot_rerender",
        "frozen_background",
        "flicker",
        "interpolated",
    }


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("count", [1, 4])
def test_family_output_is_valid_and_deterministic(name: str, count: int) -> None:
    crops, landmarks = moving_window(count, seed=1)
    family = FAMILIES[name]
    fake, mask = family.make(crops, landmarks, np.random.default_rng(3), context())
    assert fake.shape == crops.shape and fake.dtype == np.uint8
    assert mask.shape == crops.shape[:3] and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0 and mask.max() > 0.3
    assert not np.array_equal(fake, crops)
    again, again_mask = family.make(crops, landmarks, np.random.default_rng(3), context())
    np.testing.assert_array_equal(again, fake)
    np.testing.assert_array_equal(again_mask, mask)
    if name not in LOCAL_EXCEPTIONS:
        outside = mask == 0
        np.testing.assert_array_equal(fake[outside], crops[outside])


@pytest.mark.parametrize("name", PLAIN)
def test_different_rng_states_give_different_fakes(name: str) -> None:
    crops, landmarks = moving_window(4, seed=2)
    fakes = [FAMILIES[name].make(crops, landmarks, np.random.default_rng(seed), context())[0] for seed in range(3)]
    assert not (np.array_equal(fakes[0], fakes[1]) and np.array_equal(fakes[1], fakes[2]))


def test_missing_context_is_refused() -> None:
    crops, landmarks = moving_window(2, seed=0)
    for name in ("swap", "rerender_whole", "rerender_blend", "mouth_rerender"):
        with pytest.raises(ValueError, match=name):
            FAMILIES[name].make(crops, landmarks, np.random.default_rng(0), SynthesisContext())


def test_families_pickle_for_spawned_workers() -> None:
    for family in FAMILIES.values():
        assert pickle.loads(pickle.dumps(family)) == family


def test_importing_the_registry_does_not_import_torch() -> None:
    code = "import sys, training.data.families; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=False).returncode == 0


class InvertingBank:
    """Stands in for an AutoencoderBank: two 'members' that re-render by inverting or darkening."""

    def __len__(self) -> int:
        return 2

    def rerender(self, window: np.ndarray, member: int) -> np.ndarray:
        return 255 - window if member == 0 else window // 2


def test_rerender_families_reach_the_autoencoder_module() -> None:
    pytest.importorskip("torch")
    crops, landmarks = moving_window(2, seed=4)
    bank_context = SynthesisContext(autoencoders=InvertingBank())
    whole, whole_mask = FAMILIES["rerender_whole"].make(crops, landmarks, np.random.default_rng(0), bank_context)
    assert whole.shape == crops.shape and np.all(whole_mask == 1.0)
    assert not np.array_equal(whole, crops)
    rng = np.random.default_rng(0)
    animated, animated_mask = FAMILIES["one_shot_rerender"].make(crops, landmarks, rng, bank_context)
    assert animated.shape == crops.shape and np.all(animated_mask == 1.0)
    for name in ("rerender_blend", "mouth_rerender"):
        pasted, mask = FAMILIES[name].make(crops, landmarks, np.random.default_rng(0), bank_context)
        np.testing.assert_array_equal(pasted[mask == 0], crops[mask == 0])
        assert mask.max() > 0.3
