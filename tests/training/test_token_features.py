"""The patch-token cache of a drawn crop cache (training.token_features): one file per clip, the clean
variant's crops, resumable; the pairs' first round beside it, read back as twinned units."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.training.training_data import FRAMES, write_drawn_cache
from training.clean_features import chosen_crops
from training.data.crop_cache import read_index
from training.data.splits import assign_splits, manipulation_family
from training.token_features import INPUT_SIZE, build_token_features, build_token_pairs, token_path


class MeanColourTokens:
    """Stands in for the tower: every token of a crop is its mean colour, tiled."""

    input_size = INPUT_SIZE

    def __init__(self) -> None:
        self.crops_seen = 0

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        assert crops.shape[1:] == (INPUT_SIZE, INPUT_SIZE, 3)
        self.crops_seen += len(crops)
        colour = crops.reshape(len(crops), -1, 3).mean(axis=1)
        return np.tile(colour[:, None, :], (1, 197, 256)).astype(np.float16)


def test_each_clip_is_stored_whole_with_the_clean_crops_and_a_rerun_embeds_only_what_is_missing(
    tmp_path: Path,
) -> None:
    cache = write_drawn_cache(tmp_path / "crops", reals=3, fakes=1)
    root = tmp_path / "tokens"
    embedder = MeanColourTokens()
    assert build_token_features(cache, root, embedder)["embedded"] == 4
    per_clip = len(chosen_crops(FRAMES))
    assert embedder.crops_seen == 4 * per_clip
    for entry in read_index(cache):
        tokens = np.load(token_path(root, entry["clip_id"]))
        assert tokens.shape == (per_clip, 197, 768) and tokens.dtype == np.float16
    assert not list(root.glob("*.partial.npy"))

    token_path(root, "clip2").unlink()
    again = build_token_features(cache, root, embedder)
    assert (again["embedded"], again["reused"]) == (1, 3)
    assert embedder.crops_seen == 5 * per_clip


class DarkeningBank:
    """Stands in for an AutoencoderBank: one 'member' that re-renders by halving the pixel values."""

    def __len__(self) -> int:
        return 1

    def rerender(self, window: np.ndarray, member: int) -> np.ndarray:
        return window // 2


def test_the_pairs_first_round_is_stored_as_tokens_and_read_back_as_twinned_units(tmp_path: Path) -> None:
    from training.feature_data import ClipFeatures
    from training.pair_features import PROVIDED, WINDOW, read_pair
    from training.token_pooling import load_units

    cache = write_drawn_cache(tmp_path / "crops", reals=4, fakes=2)
    root = tmp_path / "tokens"
    embedder = MeanColourTokens()
    build_token_features(cache, root, embedder)
    assert build_token_pairs(cache, root, embedder, DarkeningBank())["pairs_made"] == 6
    entries = read_index(cache)
    for entry in entries:
        pair = read_pair(root, entry["clip_id"], 0)
        assert pair.fake.shape == (WINDOW, 197, 768) and pair.fake.dtype == np.float16
        # A real clip's synthetic fake sits beside its own window; the drawn fakes have no real twin.
        assert len(pair.real) == (WINDOW if entry["label"] == "real" else 0)
        assert (pair.family == PROVIDED) == (entry["label"] == "fake")
    assert build_token_pairs(cache, root, embedder, DarkeningBank())["pairs_made"] == 0, "a rerun reuses them"

    splits = assign_splits(entries, seed=0)
    clips = [
        ClipFeatures(e["clip_id"], int(e["label"] == "fake"), e["method"], manipulation_family(e["method"]), "test",
                     "video", splits[e["clip_id"]], np.zeros((0, 768), np.float32))
        for e in entries
    ]  # fmt: skip
    clean_units, _, no_twins = load_units(clips, root, pairs=False)
    assert len(clean_units) == 6 and no_twins.shape == (0, 2)
    units, crops, twins = load_units(clips, root, pairs=True)
    assert len(units) == 6 + 4 * 2 + 2 and len(twins) == 4
    for fake, real in twins:
        assert (units[fake].label, units[real].label) == (1, 0) and not units[fake].clean and not units[real].clean
        assert units[fake].family not in ("real", "lip sync", "face swap") and units[fake].split == units[real].split
    provided = [u for u in units if not u.clean and u.label == 1 and u.family in ("lip sync", "face swap")]
    assert len(provided) == 2, "a provided fake's pair member keeps its manipulation family"
    assert len(crops.cls) == len(crops.clip_index) == 6 * len(chosen_crops(FRAMES)) + 10 * WINDOW
