"""Builds detectors by architecture name and loads them from checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from models.backbones import backbone_defaults, build_backbone
from models.checkpoint import CheckpointError, ModelSpec, read_checkpoint
from models.detector import CnnLstmDetector, build_lstm_head

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "detector.pt"


def _build_cnn_lstm(spec: ModelSpec, pretrained_backbone: bool) -> CnnLstmDetector:
    backbone = build_backbone(spec.backbone, pretrained=pretrained_backbone)
    return CnnLstmDetector(backbone, build_lstm_head(backbone.feature_dim, spec.hidden_size, spec.lstm_layers))


_ARCHITECTURES: dict[str, Callable[[ModelSpec, bool], nn.Module]] = {
    "cnn_lstm": _build_cnn_lstm,
}


def register_architecture(name: str, builder: Callable[[ModelSpec, bool], nn.Module]) -> None:
    """Adds an architecture; its modules must offer ``embed`` and ``score_features``."""
    _ARCHITECTURES[name] = builder


def architecture_names() -> list[str]:
    return sorted(_ARCHITECTURES)


def build_model(spec: ModelSpec, pretrained_backbone: bool = True) -> nn.Module:
    """A fresh detector for ``spec``; ImageNet weights in the backbone when asked for."""
    if spec.architecture not in _ARCHITECTURES:
        raise CheckpointError(f"unknown architecture {spec.architecture!r}; known: {', '.join(architecture_names())}")
    try:
        return _ARCHITECTURES[spec.architecture](spec, pretrained_backbone)
    except KeyError as exc:
        raise CheckpointError(str(exc.args[0])) from None


@dataclass(frozen=True)
class LoadedModel:
    """A detector in eval mode plus the spec that says how to feed it and read it."""

    model: nn.Module
    spec: ModelSpec
    source: str  # checkpoint path, or a description of how the model was made


def load_model(path: Path) -> LoadedModel:
    """Loads a checkpoint file into a detector (on cpu, eval mode)."""
    spec, state = read_checkpoint(path)
    model = build_model(spec, pretrained_backbone=False)
    reference = model.state_dict()
    state = {k: v.to(reference[k].dtype) if k in reference else v for k, v in state.items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"checkpoint {path} does not fit its declared architecture: {first_line}") from None
    return LoadedModel(model.eval(), spec, str(path))


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


# The original ResNeXt50+LSTM project's layout registers itself; imported last because it
# calls register_architecture above.
import models.legacy  # noqa: E402, F401
