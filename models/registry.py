"""Builds detectors by architecture name and loads them from checkpoints."""

from __future__ import annotations

from pathlib import Path

import torch

# Architecture modules register themselves when imported; importing them here makes every name known:
# the CNN-LSTM, the original ResNeXt50+LSTM layout, the two-input (RGB + native residual) detector.
from models import clip_detector, detector, legacy, native  # noqa: F401
from models.architectures import (
    LoadedModel,
    architecture_names,
    build_model,
    external_prefixes,
    register_architecture,
)
from models.backbones import backbone_defaults
from models.checkpoint import CheckpointError, ModelSpec, file_sha256, read_checkpoint
from models.spec import DEFAULT_CHECKPOINT

__all__ = [
    "DEFAULT_CHECKPOINT",
    "LoadedModel",
    "architecture_names",
    "build_model",
    "load_model",
    "register_architecture",
]


def load_model(path: Path) -> LoadedModel:
    """Loads a checkpoint file into a detector (on cpu, eval mode)."""
    spec, state = read_checkpoint(path)
    model = build_model(spec, pretrained_backbone=False)
    reference = model.state_dict()
    state = {k: v.to(reference[k].dtype) if k in reference else v for k, v in state.items()}
    # Weights the architecture takes from an installed package were built in; everything else must be here.
    external = external_prefixes(spec.architecture)
    try:
        result = model.load_state_dict(state, strict=not external)
    except RuntimeError as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"checkpoint {path} does not fit its declared architecture: {first_line}") from None
    missing = [key for key in result.missing_keys if not key.startswith(external)] if external else []
    if missing or (external and result.unexpected_keys):
        wrong = (missing or result.unexpected_keys)[0]
        raise CheckpointError(f"checkpoint {path} does not fit its declared architecture: {wrong}")
    return LoadedModel(model.eval(), spec, str(path), Path(path), file_sha256(path))


def untrained_model(backbone: str = "efficientnet_lite0", window: int = 16, seed: int = 0) -> LoadedModel:
    """ImageNet backbone with a randomly initialised head, marked untrained.

    Lets the engine run end to end before a trained checkpoint exists; its spec says
    ``trained=False`` so every output states that the numbers are not verdicts.
    """
    defaults = backbone_defaults(backbone)
    spec = ModelSpec(
        backbone=backbone,
        input_size=defaults.input_size,
        mean=defaults.mean,
        std=defaults.std,
        window=window,
        trained=False,
        training_data="none: ImageNet backbone, randomly initialised temporal head",
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = build_model(spec, pretrained_backbone=True)
    return LoadedModel(model.eval(), spec, f"untrained {backbone} (no checkpoint)")


def load_default_model() -> LoadedModel:
    """The shipped checkpoint when present, else the untrained fallback."""
    if DEFAULT_CHECKPOINT.is_file():
        return load_model(DEFAULT_CHECKPOINT)
    return untrained_model()
