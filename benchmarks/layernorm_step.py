"""What LayerNorm tuning of the CLIP tower (LNCLIP-DF) costs on this machine: seconds per crop of a training step
(the torch tower's forward to blocks 6, 9 and 12, a linear head, the loss, the backward into every LayerNorm and
an AdamW step) against a frozen forward, and what v3's training data and comparison would take at that rate.

    python -m benchmarks.layernorm_step [--batches 8,16] [--seconds 20]

The frozen heads train on cached features, so each crop passes the tower once. A tuned tower changes the
features, so every epoch passes every training crop through it again, forward and backward. Crops are random
tensors of the real input size: the cost of a dense forward does not depend on what the pixels show.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np

from benchmarks.common import report

SUMMARIES = "cls6,cls9,cls12"  # what v3's head reads
COMPARISON_FITS = 17  # a head through the comparison's protocol: 3 L2 x (fit + 3 validation LOFO) + 5 test LOFO


def tower_and_head():
    import torch

    from models.clip.graph import parse_summaries
    from models.clip.torch_vit import build_tower

    tower = build_tower(parse_summaries(SUMMARIES))
    for name, parameter in tower.named_parameters():
        parameter.requires_grad = "norm" in name  # norm_pre and each block's norm1 / norm2
    head = torch.nn.Linear(3 * 768, 1)
    return tower, head


def frozen_forward(tower, head, crops) -> None:
    import torch

    with torch.inference_mode():
        head(tower(crops))


def training_step(tower, head, optimizer, crops, labels) -> None:
    import torch

    optimizer.zero_grad()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(head(tower(crops)).squeeze(1), labels)
    loss.backward()
    optimizer.step()


def timed(step, seconds: float) -> float:
    """Median seconds of ``step()`` over repeats filling ``seconds`` (at least 3), after one warm-up."""
    step()
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 3:
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def training_crops() -> int | None:
    """Crops v3 trains on (clean training crops and training pairs), from the feature cache when it exists."""
    from training.compare_heads import train_windows
    from training.data.crop_cache import default_cache
    from training.feature_cache import FeatureCache, default_feature_root
    from training.pair_features import ROUNDS
    from training.samples import load_windows
    from training.train_v3 import V3

    crops = default_cache().expanduser()
    if not (crops / "index.jsonl").is_file():
        return None
    windows = load_windows(crops, FeatureCache(default_feature_root(224)), ROUNDS)
    return sum(len(w.features) for w in train_windows(windows, V3)) or None


def main(argv: list[str] | None = None) -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="8,16", help="batch sizes, comma separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="timed repeats per measurement")
    parser.add_argument("--epochs", type=int, default=5, help="epochs a tuned fit would take, for the projection")
    args = parser.parse_args(argv)
    try:
        batches = [int(value) for value in args.batches.split(",")]
    except ValueError:
        parser.error(f"--batches takes whole numbers separated by commas, not {args.batches!r}")
    tower, head = tower_and_head()
    trainable = [p for p in tower.parameters() if p.requires_grad] + list(head.parameters())
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    result: dict = {
        "threads": torch.get_num_threads(),
        "summaries": SUMMARIES,
        "tuned_parameters": sum(p.numel() for p in tower.parameters() if p.requires_grad),
        "batches": {},
    }
    for batch in batches:
        crops = torch.randn(batch, 3, 224, 224)
        labels = (torch.arange(batch) % 2).float()
        result["batches"][str(batch)] = {
            "frozen_forward_s_per_crop": round(
                timed(partial(frozen_forward, tower, head, crops), args.seconds) / batch, 4
            ),
            "training_step_s_per_crop": round(
                timed(partial(training_step, tower, head, optimizer, crops, labels), args.seconds) / batch, 4
            ),
        }
    step = min(row["training_step_s_per_crop"] for row in result["batches"].values())
    count = training_crops()
    if count:
        epoch_hours = count * step / 3600
        result["projection"] = {
            "training_crops": count,
            "epoch_hours": round(epoch_hours, 2),
            "epochs": args.epochs,
            "one_fit_hours": round(epoch_hours * args.epochs, 1),
            "comparison_fits": COMPARISON_FITS,
            "comparison_hours": round(epoch_hours * args.epochs * COMPARISON_FITS, 1),
        }
    report("layernorm_step", result)


if __name__ == "__main__":
    main()
