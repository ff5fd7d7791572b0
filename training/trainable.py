"""The one interface the trainer trains a detector through, as DeepfakeBench's base detector is for its trainer.

A :class:`Trainable` wraps a runtime detector (``detector``: what the checkpoint stores, with ``embed`` and
``score_features``) and whatever only training needs (a frame classifier, auxiliary heads and losses). The
trainer (``training.train``) sees batches of crops, named outputs and named losses, never the layers of one
architecture:

* stage 1: ``features(batch)`` -> ``classifier(features)`` -> ``losses(batch, outputs)``, minimising
  ``losses[...]["overall"]`` over ``parameter_groups()``;
* stage 2: ``start_window_head(features)``, then the window head alone on frozen features.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import ClassVar

import torch
from torch import nn

OVERALL = "overall"  # the loss a training step minimises; the others are its named parts


@dataclass(frozen=True)
class CropBatch:
    """Crops of one batch, flattened: what a detector reads of each crop and, for training, what it should say."""

    crops: torch.Tensor  # (N, 3, S, S) normalised RGB crops (training.data.datasets.ModelInputs)
    canvases: torch.Tensor  # (N, 3, C, C) native-resolution canvases in [0, 1]
    labels: torch.Tensor | None = None  # (N,) 1.0 fake, 0.0 real
    masks: torch.Tensor | None = None  # (N, C, C) where a crop was manipulated, in [0, 1]
    mask_weights: torch.Tensor | None = None  # (N,) 1.0 where the mask is known (reals, synthesized fakes)

    @classmethod
    def of_pairs(cls, batch: dict) -> CropBatch:
        """The crops of a batch of pairs of windows (``training.data.datasets.PairDataset``: (B, 2, T, ...))."""
        shape = batch["crops"].shape[:3]
        return cls(
            crops=batch["crops"].flatten(0, 2),
            canvases=batch["canvases"].flatten(0, 2),
            labels=batch["labels"][:, :, None].expand(shape).flatten(),
            masks=batch["masks"].flatten(0, 2),
            mask_weights=batch["mask_weights"][:, :, None].expand(shape).flatten(),
        )

    def to(self, device: torch.device) -> CropBatch:
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return CropBatch(**{name: None if value is None else value.to(device) for name, value in moved.items()})

    def __len__(self) -> int:
        return len(self.crops)


class Trainable(nn.Module, ABC):
    """A detector as the trainer sees it. Its modules (``detector`` and what training adds) are submodules,
    so ``state_dict``, ``train``/``eval`` and ``to`` cover everything stage 1 trains."""

    architecture: ClassVar[str]  # the detector's registry name (models.registry)
    reads_canvas: ClassVar[bool]  # whether the detector reads native canvases (spec.canvas_size > 0)
    detector: nn.Module

    @abstractmethod
    def features(self, batch: CropBatch) -> dict[str, torch.Tensor]:
        """Per-crop outputs: ``"features"`` (N, D), the window head's input, and whatever ``losses`` also needs."""

    @abstractmethod
    def classifier(self, features: torch.Tensor) -> torch.Tensor:
        """(N, D) per-crop features -> (N,) frame logits."""

    @abstractmethod
    def losses(self, batch: CropBatch, outputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Named losses of a labelled batch (``outputs``: ``features`` plus ``"logits"``); ``OVERALL`` is minimised."""

    @abstractmethod
    def parameter_groups(self) -> list[dict]:
        """Stage 1's optimizer groups, each with its learning rate."""

    @property
    @abstractmethod
    def window_head(self) -> nn.Module:
        """The detector's head over windows of features: (B, T, D) -> (B,) logits; stage 2 trains it alone."""

    @abstractmethod
    def start_window_head(self, features: torch.Tensor) -> None:
        """Sets the window head to start from what stage 1 learnt, given training windows (N, T, D) of features."""

    def forward(self, batch: CropBatch) -> dict[str, torch.Tensor]:
        """``features`` and the frame ``"logits"`` of a batch."""
        outputs = self.features(batch)
        return {**outputs, "logits": self.classifier(outputs["features"])}
