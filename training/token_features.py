"""Every patch token of the tower's last block for the clean crops of the feature cache, for heads that pool
the tokens themselves (``training.token_pooling``) instead of reading the CLS token or a fixed mean.

The same crops as the ``clean`` variant (up to 8 per clip, ``training.clean_features.chosen_crops``, cut as the
engine cuts them), through the torch port of the tower (``models.clip.torch_vit``; it agrees with the ONNX
graph to cosine > 0.999), stored per clip as (K, 197, 768) float16: the CLS token and the 196 patch tokens of
the residual stream after block 12. For the 550 clips of ../shared/data (2,178 crops): 630 MB, 7 min on two
cores; resumable (clips already stored are skipped).

    python -m training.token_features --crops ~/.cache/deepfake-analyzer/crops
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from training.clean_features import embed_clean_crops
from training.data.crop_cache import default_cache
from training.feature_cache import default_feature_root

BLOCK = 12
INPUT_SIZE = 224
BATCH = 8


def default_token_root() -> Path:
    return default_feature_root(INPUT_SIZE) / f"tokens{BLOCK}"


def token_path(root: Path, clip_id: str) -> Path:
    return root / f"{clip_id}.npy"


class TokenEmbedder:
    """(N, S, S, 3) uint8 RGB crops -> (N, 197, 768) float16: the residual stream after block 12."""

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache())
    parser.add_argument("--out", type=Path, default=None, help="token cache (default: in the user cache)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips (0: all)")
    args = parser.parse_args(argv)
    root = args.out or default_token_root()
    result = build_token_features(args.crops.expanduser(), root, TokenEmbedder(args.threads), args.limit)
    print(json.dumps(result | {"out": str(root)}))


if __name__ == "__main__":
    main()
