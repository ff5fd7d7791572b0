"""The ONNX Runtime scorer gives torch's p_fake for the whole detector, and the CPU path runs without torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from models.checkpoint import ModelSpec, save_checkpoint
from models.native import ARCHITECTURE
from models.onnx_export import export_detector
from models.onnx_files import export_prefix, read_export
from models.registry import build_model, load_model
from models.spec import file_sha256
from realtime.scorers import OnnxScorer
from realtime.torch_scorer import TorchScorer

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def native_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small two-input detector (64 px canvases, 32 px crops) with its ONNX export beside it."""
    torch.manual_seed(0)
    spec = ModelSpec(architecture=ARCHITECTURE, input_size=32, window=4, hidden_size=8, canvas_size=64, trained=True)
    model = build_model(spec, pretrained_backbone=True).eval()
    path = tmp_path_factory.mktemp("native") / "native.pt"
    save_checkpoint(path, model, spec)
    export_detector(load_model(path), export_prefix(path), file_sha256(path))
    return path


def test_onnx_runtime_scores_the_whole_detector_as_torch_does(native_checkpoint):
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(6)]
    canvases = [rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(6)]
    detector = read_export(export_prefix(native_checkpoint), file_sha256(native_checkpoint))
    assert detector is not None and detector.spec.canvas_size == 64
    onnx, reference = OnnxScorer(detector, threads=1), TorchScorer(load_model(native_checkpoint), torch.device("cpu"))
    onnx_features, torch_features = onnx.embed(crops, canvases), reference.embed(crops, canvases)
    np.testing.assert_allclose(onnx_features, torch_features, rtol=1e-3, atol=1e-4)
    windows = [torch_features[:4], torch_features[2:6], torch_features[:1]]  # two lengths in one call
    np.testing.assert_allclose(onnx.probabilities(windows), reference.probabilities(windows), atol=1e-5)
    with pytest.raises(ValueError, match="canvas"):
        onnx.embed(crops)


def test_an_export_of_another_checkpoint_is_not_used(native_checkpoint):
    assert read_export(export_prefix(native_checkpoint), "0" * 64) is None


def test_the_cpu_path_builds_and_scores_without_importing_torch(native_checkpoint):
    # A fresh process in which `import torch` fails: the engine must not need it on the CPU.
    script = (
        "import sys; sys.modules['torch'] = None\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "from realtime.config import EngineConfig\n"
        "from realtime.engine import build_engine\n"
        "engine = build_engine(EngineConfig(device='cpu', torch_threads=1), Path(sys.argv[1]))\n"
        "features = engine.scorer.embed([np.zeros((32, 32, 3), np.uint8)], [np.zeros((64, 64, 3), np.uint8)])\n"
        "print(engine.runtime, features.shape, len(engine.scorer.probabilities([features])))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(native_checkpoint)],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    runtime, *_shape, count = done.stdout.split()
    assert runtime == "onnxruntime" and count == "1"


def test_without_torch_and_without_an_export_the_error_says_what_is_missing(native_checkpoint, tmp_path):
    lonely = tmp_path / "lonely.pt"
    lonely.write_bytes(native_checkpoint.read_bytes())
    script = (
        "import sys; sys.modules['torch'] = None\n"
        "from pathlib import Path\n"
        "from realtime.config import EngineConfig\n"
        "from realtime.engine import EngineError, build_engine\n"
        "try:\n"
        "    build_engine(EngineConfig(device='cpu', torch_threads=1), Path(sys.argv[1]))\n"
        "except EngineError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(lonely)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert "has no ONNX export yet" in done.stdout and "needs torch" in done.stdout, done.stdout + done.stderr
