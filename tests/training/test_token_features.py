"""The patch-token cache of a drawn crop cache (training.token_features): one file per clip, the clean
variant's crops, resumable."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.training.training_data import FRAMES, write_drawn_cache
from training.clean_features import chosen_crops
from training.data.crop_cache import read_index
from training.token_features import INPUT_SIZE, build_token_features, token_path


class MeanColourTokens:
    """Stands in for the tower: every token of a crop is its mean colour, tiled."""

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
