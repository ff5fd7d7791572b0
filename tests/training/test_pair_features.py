"""Aligned pairs of a drawn crop cache: the rotation's pair set, a family outside the rotation in a set of its
own (built for real clips only, never touching the rotation's pairs), and how heads see both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.training.training_data import write_drawn_cache
from training.compare_heads import HeadConfig, train_windows
from training.data.crop_cache import read_index
from training.data.splits import assign_splits
from training.feature_cache import SUMMARY_ROWS, FeatureCache
from training.pair_features import TARGETED, PairBuilder, pair_path, pair_set, read_pair
from training.samples import PAIR, load_windows

pytest.importorskip("torch")  # the generated-mouth family re-renders through training.data.autoencoders


class PixelEmbedder:
    """Stands in for the CLIP tower: each crop's reading is its mean colour per row band, so a fake whose
    lower face changed reads differently from its real twin."""

    input_size = 32

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        bands = crops.astype(np.float32).reshape(len(crops), 4, -1, 3).mean(axis=2).reshape(len(crops), 12)
        return np.tile(bands[:, None, :], (1, len(SUMMARY_ROWS), 64))


class DarkeningBank:
    """Stands in for an AutoencoderBank: one 'member' that re-renders by halving the pixel values."""

    def __len__(self) -> int:
        return 1

    def rerender(self, window: np.ndarray, member: int) -> np.ndarray:
        return window // 2


@pytest.fixture()
def built(tmp_path: Path) -> tuple[Path, FeatureCache, PairBuilder]:
    cache = tmp_path / "crops"
    write_drawn_cache(cache, reals=6, fakes=2)
    features = FeatureCache(tmp_path / "features")
    builder = PairBuilder(cache, features.root, PixelEmbedder(), DarkeningBank())
    split_of = assign_splits(read_index(cache), seed=0)
    assert builder.build(1, split_of)["pairs_made"] == 8
    return cache, features, builder


def test_a_family_outside_the_rotation_gets_its_own_pair_set(built) -> None:
    cache, features, builder = built
    assert TARGETED == ("mouth_rerender", "one_shot_rerender")
    assert not set(TARGETED) & set(builder.families), "adding a family must not reshuffle the rotation's pairs"
    rotation = {path: path.read_bytes() for path in (features.root / pair_set()).iterdir()}
    split_of = assign_splits(read_index(cache), seed=0)

    report = builder.build(1, split_of, targeted="mouth_rerender")

    assert report["pairs_made"] == 6, "one pair per real clip; provided fakes have no synthetic twin"
    assert {path: path.read_bytes() for path in (features.root / pair_set()).iterdir()} == rotation
    reals = [e["clip_id"] for e in read_index(cache) if e["label"] == "real"]
    for clip_id in reals:
        assert pair_path(features.root, clip_id, 0, "mouth_rerender").is_file()
        pair = read_pair(features.root, clip_id, 0, "mouth_rerender")
        assert pair.family == "mouth_rerender" and pair.real.shape == pair.fake.shape
        assert not np.array_equal(pair.real, pair.fake)
    assert builder.build(1, split_of, targeted="mouth_rerender")["pairs_made"] == 0, "a rerun reuses the set"


def test_heads_train_on_a_targeted_set_only_when_they_name_it(built) -> None:
    cache, features, builder = built
    builder.build(1, assign_splits(read_index(cache), seed=0), targeted="mouth_rerender")

    windows = load_windows(cache, features, rounds=1)

    targeted = [w for w in windows if w.pair_set == "mouth_rerender"]
    assert len(targeted) == 12 and all(w.origin == PAIR for w in targeted)
    assert {w.family for w in targeted if w.label == 1} == {"mouth_rerender"}
    assert len({w.unit for w in windows}) == len(windows), "a targeted pair's units never collide with the rotation's"
    plain = train_windows(windows, HeadConfig("rotation only", pairs=True))
    named = train_windows(windows, HeadConfig("with generated mouths", pairs=True, targeted=("mouth_rerender",)))
    assert not any(w.pair_set for w in plain)
    assert {w.unit for w in plain} < {w.unit for w in named}
    assert all(w.pair_set == "mouth_rerender" for w in named if w not in plain)
    assert any(w.pair_set for w in named)
