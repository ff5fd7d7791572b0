"""The architecture table: detector builders by name (a leaf: model modules register here, it imports none).

Each architecture module calls :func:`register_architecture` when imported; ``models.registry``
imports them so every name is known before a checkpoint is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from models.spec import CheckpointError, ModelSpec

_ARCHITECTURES: dict[str, Callable[[ModelSpec, bool], nn.Module]] = {}
_EXTERNAL_PREFIXES: dict[str, tuple[str, ...]] = {}


def register_architecture(
    name: str, builder: Callable[[ModelSpec, bool], nn.Module], external_prefixes: tuple[str, ...] = ()
) -> None:
    """Adds an architecture; its modules must offer ``embed`` and ``score_features``.

    ``external_prefixes``: state-dict prefixes whose weights come from an installed package (a
    foundation model's), are built with the model every time and never stored in a checkpoint.
    """
    _ARCHITECTURES[name] = builder
    _EXTERNAL_PREFIXES[name] = external_prefixes


def external_prefixes(architecture: str) -> tuple[str, ...]:
    """The state-dict prefixes of ``architecture`` that checkpoints leave out (see register_architecture)."""
    return _EXTERNAL_PREFIXES.get(architecture, ())


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
    checkpoint: Path | None = None  # the checkpoint file it was loaded from (None: made in memory)
    checkpoint_sha256: str | None = None
