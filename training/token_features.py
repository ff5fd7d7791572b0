"""Every patch token of the tower's last block for the clean crops of the feature cache, for heads that pool
the tokens themselves (``training.token_pooling``) instead of reading the CLS token or a fixed mean.

The same crops as the ``clean`` variant (up to 8 per clip, ``training.clean_features.chosen_crops``, cut as the
engine cuts them), through the torch port of the tower (``models.clip.torch_vit``; it agrees with the ONNX
graph to cosine > 0.999), stored per clip as (K, 197, 768) float16: the CLS token and the 196 patch tokens of
the residual stream after block 12. For the 550 clips of ../shared/data (2,178 crops): 630 MB, 7 min on two
cores; resumable (clips already stored are skipped).

``--pairs`` stores the tokens of the aligned pairs' first round instead (``training.pair_features``: the same
synthesis, the same degradation chain, seeded alike, so the same windows as the feature cache's round 0), under
``<root>/pairs/``, for heads that learn from the pairs and rank each fake above its twin.

    python -m training.token_features --crops ~/.cache/deepfake-analyzer/crops
    python -m training.token_features --crops ~/.cache/deepfake-analyzer/crops --pairs
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from training.clean_features import embed_clean_crops
from training.data.crop_cache import default_cache, read_index
from training.data.datasets import load_autoencoders
from training.data.splits import assign_splits
from training.feature_cache import default_feature_root
from training.pair_features import PairBuilder

BLOCK = 12
INPUT_SIZE = 224
BATCH = 8


def default_token_root() -> Path:
    return default_feature_root(INPUT_SIZE) / f"tokens{BLOCK}"


def token_path(root: Path, clip_id: str) -> Path:
    return root / f"{clip_id}.npy"


class TokenEmbedder:
    """(N, S, S, 3) uint8 RGB crops -> (N, 197, 768) float16: the residual stream after block 12."""

    input_size = INPUT_SIZE

    def __init__(self, threads: int = 2) -> None:
        import torch

        from models.clip.graph import parse_summaries
        from models.clip.torch_vit import build_tower

        torch.set_num_threads(threads)
        self._torch = torch
        self._tower = build_tower(parse_summaries(f"cls{BLOCK}"), INPUT_SIZE).eval()

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        from models.clip.weights import MEAN, STD
        from models.preprocess import crop_input

        pixels = self._torch.from_numpy(crop_input(crops, MEAN, STD))
        with self._torch.inference_mode():
            parts = [self._tower.tokens(pixels[i : i + BATCH])[-1] for i in range(0, len(pixels), BATCH)]
        return self._torch.cat(parts).numpy().astype(np.float16)


def build_token_features(crop_cache: Path, root: Path, embedder, limit: int = 0) -> dict:
    """The token file of every clip of the crop cache that has none yet (the first ``limit`` clips; 0: all)."""
    root.mkdir(parents=True, exist_ok=True)

    def store(clip_id: str, tokens: np.ndarray, arrays: dict[str, np.ndarray], picks: np.ndarray) -> None:
        target = token_path(root, clip_id)
        partial = target.with_suffix(".partial.npy")
        np.save(partial, tokens)
        partial.replace(target)  # a clip is stored whole or not at all, so an interrupted run resumes cleanly

    return embed_clean_crops(
        crop_cache, embedder, INPUT_SIZE, lambda clip_id: token_path(root, clip_id).is_file(), store, limit=limit
    )


def build_token_pairs(crop_cache: Path, root: Path, embedder, autoencoders, rounds: int = 1, limit: int = 0) -> dict:
    """The tokens of every missing pair of the rotation's first ``rounds`` rounds (``training.pair_features``)."""
    builder = PairBuilder(crop_cache, root, embedder, autoencoders)
    return builder.build(rounds, assign_splits(read_index(crop_cache), seed=0), limit)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache())
    parser.add_argument("--out", type=Path, default=None, help="token cache (default: in the user cache)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips (0: all)")
    parser.add_argument("--pairs", action="store_true", help="the aligned pairs' first round, not the clean crops")
    args = parser.parse_args(argv)
    root = args.out or default_token_root()
    crops = args.crops.expanduser()
    if args.pairs:
        autoencoders = load_autoencoders(crops / "autoencoders")
        if autoencoders is None:
            raise SystemExit("error: the pairs need the autoencoder bank (training.data.autoencoders)")
        result = build_token_pairs(crops, root, TokenEmbedder(args.threads), autoencoders, limit=args.limit)
    else:
        result = build_token_features(crops, root, TokenEmbedder(args.threads), args.limit)
    print(json.dumps(result | {"out": str(root)}))


if __name__ == "__main__":
    main()
