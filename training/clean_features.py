"""Builds the ``clean`` variant of the CLIP feature cache: up to K crops per clip of the crop cache, cut
as the engine cuts them (``faces.crops.crop_from_canvas`` at the model's input size), through the tower.

    python -m training.clean_features --crops ~/.cache/deepfake-analyzer/crops

Resumable: clips whose entry exists are skipped. About 0.2-0.25 s per crop on two quiet CPU cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from faces.crops import crop_from_canvas
from training.clip_embedder import ClipEmbedder
from training.data.crop_cache import default_cache, load_clip, read_index
from training.feature_cache import ALL_SUMMARIES, FeatureCache, FeatureEntry, default_feature_root

CROPS_PER_CLIP = 8
CLEAN = "clean"


def chosen_crops(count: int, per_clip: int = CROPS_PER_CLIP) -> np.ndarray:
    """Positions of up to ``per_clip`` crops spread evenly over a clip's ``count`` crops."""
    return np.unique(np.linspace(0, count - 1, min(per_clip, count)).round().astype(int))


def model_crops(canvases: np.ndarray, sides: np.ndarray, input_size: int) -> np.ndarray:
    """The model's RGB crops of cached canvases, derived as the live engine derives them."""
    return np.stack(
        [crop_from_canvas(canvas, float(side), input_size) for canvas, side in zip(canvases, sides, strict=True)]
    )


def embed_clean_crops(
    crop_cache: Path,
    embedder: Callable[[np.ndarray], np.ndarray],
    input_size: int,
    stored: Callable[[str], bool],
    store: Callable[[str, np.ndarray, dict[str, np.ndarray], np.ndarray], None],
    per_clip: int = CROPS_PER_CLIP,
    limit: int = 0,
) -> dict:
    """For every clip of the crop cache (the first ``limit``; 0: all) that ``stored`` says is missing: its chosen
    crops, cut as the engine cuts them, through ``embedder``; ``store(clip_id, embedded, clip arrays, picks)``
    keeps the result. Resumable, as ``store`` writes a clip whole or not at all."""
    entries = read_index(crop_cache)[: limit or None]
    done = skipped = 0
    started = time.monotonic()
    for number, entry in enumerate(entries):
        if stored(entry["clip_id"]):
            skipped += 1
            continue
        arrays = load_clip(crop_cache, entry)
        picks = chosen_crops(len(arrays["crops"]), per_clip)
        crops = model_crops(arrays["crops"][picks], arrays["canvas_side"][picks], input_size)
        store(entry["clip_id"], embedder(crops), arrays, picks)
        done += 1
        if done % 20 == 0:
            rate = (time.monotonic() - started) / done
            print(f"{number + 1}/{len(entries)} clips, {rate:.1f} s per clip", file=sys.stderr, flush=True)
    return {"clips": len(entries), "embedded": done, "reused": skipped, "elapsed_s": round(time.monotonic() - started)}


def build_clean_features(
    crop_cache: Path, features: FeatureCache, embedder: ClipEmbedder, per_clip: int = CROPS_PER_CLIP
) -> dict:
    def store(clip_id: str, summaries: np.ndarray, arrays: dict[str, np.ndarray], picks: np.ndarray) -> None:
        features.write(CLEAN, clip_id, FeatureEntry(summaries, arrays["frame_index"][picks], picks))

    return embed_clean_crops(
        crop_cache, embedder, embedder.input_size, lambda clip_id: features.has(CLEAN, clip_id), store, per_clip
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache(), help="crop cache (training.data.prepare)")
    parser.add_argument("--out", type=Path, default=None, help="feature cache root (default: in the user cache)")
    parser.add_argument("--per-clip", type=int, default=CROPS_PER_CLIP)
    parser.add_argument("--device", default="cpu", help="cpu (ONNX Runtime) or cuda (the torch port)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    embedder = ClipEmbedder(ALL_SUMMARIES, 224, args.device, args.threads)
    cache = FeatureCache(args.out or default_feature_root(224))
    print(json.dumps(build_clean_features(args.crops.expanduser(), cache, embedder, args.per_clip)))


if __name__ == "__main__":
    main()
