"""The ONNX Runtime backbone computes the same features and scores as torch."""

import numpy as np
import torch

from models.registry import load_model
from realtime.inference import make_scorer


def test_onnx_and_torch_scorers_agree_and_the_export_is_cached(small_checkpoint, tmp_path):
    loaded = load_model(small_checkpoint)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (96, 96, 3), dtype=np.uint8) for _ in range(5)]
    torch_scorer = make_scorer(loaded, torch.device("cpu"), "torch", 1, tmp_path)
    onnx_scorer = make_scorer(loaded, torch.device("cpu"), "onnx", 1, tmp_path)
    assert (torch_scorer.runtime, onnx_scorer.runtime) == ("torch", "onnxruntime")
    reference, fast = torch_scorer.embed(crops), onnx_scorer.embed(crops)
    assert fast.shape == reference.shape and torch.allclose(fast, reference, atol=2e-3, rtol=1e-3)
    window = [reference[:4]]
    assert abs(onnx_scorer.probabilities([fast[:4]])[0] - torch_scorer.probabilities(window)[0]) < 1e-3
    exported = list(tmp_path.glob("backbone-*.onnx"))
    assert len(exported) == 1
    mtime = exported[0].stat().st_mtime_ns
    make_scorer(loaded, torch.device("cpu"), "auto", 1, tmp_path)
    assert exported[0].stat().st_mtime_ns == mtime  # reused, not exported again
