"""Checkpoint format: one file holding the weights and the spec that says how to use them.

Nothing downstream hard-codes input size, normalisation, window, threshold or calibration:
they travel in :class:`ModelSpec`. Files are read with ``torch.load(weights_only=True)``, so a
checkpoint that smuggles pickled code is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

SPEC_VERSION = 1
CHECKPOINT_FORMAT = "deepfake-analyzer-checkpoint"


class CheckpointError(Exception):
    """A checkpoint is missing, unreadable, unsafe or of an unknown layout."""


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a detector and to read its scores."""

    architecture: str = "cnn_lstm"  # model registry name (models.registry)
    backbone: str = "efficientnet_lite0"  # backbone registry name (models.backbones)
    input_size: int = 224  # square crop side in pixels fed to the backbone
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)  # per-channel RGB mean, 0-1 scale
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    window: int = 16  # crops per temporal window
    hidden_size: int = 256  # LSTM width
    lstm_layers: int = 1
    crop_margin: float = 1.3  # crop side / detector box side
    aligned: bool = False  # crops rotated upright from 5-point landmarks
    threshold: float = 0.5  # calibrated p_fake at or above which a window is labelled fake
    temperature: float = 1.0  # logit temperature from calibration: p = sigmoid(logit / T)
    trained: bool = False  # False: scores are not verdicts and every output must say so
    training_data: str = ""  # what the weights were trained on, with licenses
    metrics: dict[str, Any] = field(default_factory=dict)  # validation figures
    spec_version: int = SPEC_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Plain types only, so the spec loads under weights_only."""
        data = dataclasses.asdict(self)
        data["mean"] = list(self.mean)
        data["std"] = list(self.std)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        version = data.get("spec_version")
        if version != SPEC_VERSION:
            raise CheckpointError(f"unsupported checkpoint spec version {version!r} (this build reads {SPEC_VERSION})")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["mean"] = tuple(float(x) for x in values.get("mean", cls.mean))
        values["std"] = tuple(float(x) for x in values.get("std", cls.std))
        spec = cls(**values)
        if not (0.0 < spec.threshold < 1.0) or not math.isfinite(spec.temperature) or spec.temperature <= 0:
            raise CheckpointError("checkpoint spec has an invalid threshold or temperature")
        if spec.window < 1 or spec.input_size < 16:
            raise CheckpointError("checkpoint spec has an invalid window or input size")
        return spec


def save_checkpoint(path: Path, model: nn.Module, spec: ModelSpec, half_precision: bool = False) -> str:
    """Writes weights and spec atomically, plus a ``.sha256`` manifest beside them; returns the sha256.

    ``half_precision`` stores floating tensors as fp16 to halve the file; they are cast back on load.
    """
    state = {
        k: (v.half() if half_precision and v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
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


def checksum_path(path: Path) -> Path:
    """The manifest file that records a checkpoint's sha256 (``detector.pt.sha256``)."""
    return path.with_name(path.name + ".sha256")


def verify_checksum(path: Path) -> None:
    """Raises CheckpointError when a manifest exists and the file's sha256 differs from it."""
    manifest = checksum_path(path)
    if not manifest.is_file():
        return
    fields = manifest.read_text().split()
    if file_sha256(path) != (fields[0] if fields else ""):
        raise CheckpointError(
            f"checkpoint {path} does not match its sha256 manifest {manifest.name} (corrupt or altered)"
        )


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


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
