"""Deepfake detector models, what the runtime needs of them: backbones, architectures, temporal heads,
checkpoints, ONNX files. Training and evaluation live in training/, which the runtime never imports."""

import os

# Idle OpenMP threads must not spin: on a small CPU the data loader (or the engine's capture and face
# threads) need the cores too. Set here, before any module of this package loads torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
