"""Checkpoint format: one file holding the weights and the spec that says how to use them.

Nothing downstream hard-codes input size, normalisation, window, threshold or calibration:
they travel in :class:`ModelSpec`. Files are read with ``torch.load(weights_only=True)``, so a
checkpoint that smuggles pickled code is refused.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn

from models.spec import SPEC_VERSION, CheckpointError, ModelSpec, checksum_path, file_sha256, verify_checksum

__all__ = [
    "SPEC_VERSION",
    "CheckpointError",
    "ModelSpec",
    "checksum_path",
    "file_sha256",
    "read_checkpoint",
    "save_checkpoint",
    "verify_checksum",
]

CHECKPOINT_FORMAT = "deepfake-analyzer-checkpoint"


def save_checkpoint(path: Path, model: nn.Module, spec: ModelSpec, half_precision: bool = False) -> str:
    """Writes weights and spec atomically, plus a ``.sha256`` manifest beside them; returns the sha256.

    ``half_precision`` stores floating tensors as fp16 to halve the file; they are cast back on load.
    """
    from models.architectures import external_prefixes

    # Weights that come from an installed package (a foundation model's) are not the checkpoint's to hold.
    external = external_prefixes(spec.architecture)
    state = {
        k: (v.half() if half_precision and v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
        if not k.startswith(external)
    }
    payload = {"format": CHECKPOINT_FORMAT, "spec": spec.to_dict(), "state_dict": state}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as tmp:
        torch.save(payload, tmp)
    os.chmod(tmp.name, 0o644)  # temporary files are private; a checkpoint is an ordinary file
    os.replace(tmp.name, path)
    digest = file_sha256(path)
    checksum_path(path).write_text(f"{digest}  {path.name}\n")
    return digest


def read_checkpoint(path: Path) -> tuple[ModelSpec, dict[str, torch.Tensor]]:
    """Reads spec and state_dict, refusing anything weights_only loading refuses."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"model checkpoint not found: {path}")
    verify_checksum(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"cannot load model checkpoint {path}: {first_line}") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of this project (no {CHECKPOINT_FORMAT!r} header)")
    return ModelSpec.from_dict(payload["spec"]), payload["state_dict"]
