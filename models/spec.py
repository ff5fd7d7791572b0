"""The model spec: everything needed to rebuild a detector and to read its scores (plain data, no torch).

Nothing downstream hard-codes input size, normalisation, window, threshold or calibration: they
travel in :class:`ModelSpec`, inside the checkpoint and inside its ONNX export.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_VERSION = 2
READABLE_SPEC_VERSIONS = (1, 2)  # version 2 added token_summaries and crops_per_second (defaults keep 1's meaning)
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "detector.pt"


class CheckpointError(Exception):
    """A checkpoint is missing, unreadable, unsafe or of an unknown layout."""


# Architectures whose window logit is the mean of per-crop logits (the CLIP heads of models.clip_detector):
# any number of crops makes a valid window, so a face can be scored from its first embedded crop on.
MEAN_OF_CROPS_ARCHITECTURES = frozenset({"clip_vit_b16_probe", "clip_vit_b16_experts"})


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
    canvas_size: int = 0  # native-resolution canvas the model also reads (faces.crops); 0: crops only
    token_summaries: str = ""  # CLIP detectors: the tower's readings per crop, e.g. "cls12" (models.clip.graph)
    # Crops per second of video per face a CPU embeds from files and scans (0: every crop, as a cheap CNN can);
    # live sources on a CPU embed each face's newest crop instead (realtime.pacing).
    crops_per_second: float = 0.0
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
        if version not in READABLE_SPEC_VERSIONS:
            raise CheckpointError(
                f"unsupported checkpoint spec version {version!r} (this build reads {READABLE_SPEC_VERSIONS})"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["mean"] = tuple(float(x) for x in values.get("mean", cls.mean))
        values["std"] = tuple(float(x) for x in values.get("std", cls.std))
        values["spec_version"] = SPEC_VERSION  # read into this version's fields; written back as this version
        spec = cls(**values)
        if spec.crops_per_second < 0:
            raise CheckpointError("checkpoint spec has a negative crops_per_second")
        if not (0.0 < spec.threshold < 1.0) or not math.isfinite(spec.temperature) or spec.temperature <= 0:
            raise CheckpointError("checkpoint spec has an invalid threshold or temperature")
        if spec.window < 1 or spec.input_size < 16:
            raise CheckpointError("checkpoint spec has an invalid window or input size")
        return spec


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
