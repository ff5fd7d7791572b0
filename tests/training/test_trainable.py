"""The trainer's one interface: batches of pairs flatten per crop, the loop trains any Trainable (a toy one
here), and the CNN adapters name their losses, cover their parameters and warm-start their window head."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional

from models.checkpoint import ModelSpec
from models.registry import build_model
from training.cnn_trainable import TRAINABLES, build_trainable
from training.train import stage1_step
from training.train_config import TrainConfig
from training.trainable import OVERALL, CropBatch, Trainable

SIDE, CANVAS = 32, 64


def pair_batch(pairs: int = 3, steps: int = 2) -> dict:
    """A batch as PairDataset's loader makes it: (B, 2, T, ...), real first; the fake is brighter."""
    crops = torch.rand(pairs, 2, steps, 3, SIDE, SIDE) * 0.5
    crops[:, 1] += 0.5
    canvases = torch.rand(pairs, 2, steps, 3, CANVAS, CANVAS)
    masks = torch.zeros(pairs, 2, steps, CANVAS, CANVAS)
    masks[:, 1, :, 16:48, 16:48] = 1.0
    return {
        "crops": crops,
        "canvases": canvases,
        "labels": torch.tensor([[0.0, 1.0]] * pairs),
        "masks": masks,
        "mask_weights": torch.tensor([[1.0, 1.0]] * pairs),
        "kind": ["self_blend"] * pairs,
    }


def test_pairs_of_windows_flatten_to_labelled_crops() -> None:
    batch = CropBatch.of_pairs(pair_batch(pairs=3, steps=2))
    assert len(batch) == 12 and batch.crops.shape == (12, 3, SIDE, SIDE) and batch.masks.shape == (12, CANVAS, CANVAS)
    assert batch.labels.tolist() == [0.0, 0.0, 1.0, 1.0] * 3  # each crop carries its window's label
    assert batch.mask_weights.tolist() == [1.0] * 12
    bare = CropBatch(batch.crops, batch.canvases).to(torch.device("cpu"))
    assert bare.labels is None and bare.crops is batch.crops


class MeanBrightness(Trainable):
    """A toy detector: the mean of each crop's channels, a linear logit; no canvas, no temporal head."""

    architecture = "toy"
    reads_canvas = False

    def __init__(self) -> None:
        super().__init__()
        self.detector = nn.Linear(3, 4)
        self.frame = nn.Linear(4, 1)

    def features(self, batch: CropBatch) -> dict[str, torch.Tensor]:
        return {"features": self.detector(batch.crops.mean(dim=(2, 3)))}

    def classifier(self, features: torch.Tensor) -> torch.Tensor:
        return self.frame(features).squeeze(-1)

    def losses(self, batch: CropBatch, outputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        loss = functional.binary_cross_entropy_with_logits(outputs["logits"], batch.labels)
        return {"classification": loss, OVERALL: loss}

    def parameter_groups(self) -> list[dict]:
        return [{"params": self.parameters(), "lr": 0.05}]

    @property
    def window_head(self) -> nn.Module:
        raise NotImplementedError

    def start_window_head(self, features: torch.Tensor) -> None:
        raise NotImplementedError


def test_the_training_step_trains_any_trainable_through_the_interface() -> None:
    torch.manual_seed(0)
    toy = MeanBrightness()
    optimizer = torch.optim.Adam(toy.parameter_groups())
    batch = pair_batch()
    losses = [stage1_step(toy, optimizer, batch, torch.device("cpu"))["classification"] for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0], losses


@pytest.fixture(params=sorted(TRAINABLES))
def trainable(request: pytest.FixtureRequest):
    kind = TRAINABLES[request.param]
    spec = ModelSpec(
        architecture=kind.architecture,
        input_size=SIDE,
        window=2,
        hidden_size=8,
        canvas_size=CANVAS if kind.reads_canvas else 0,
    )
    torch.manual_seed(0)
    return build_trainable(build_model(spec, pretrained_backbone=False), TrainConfig(architecture=kind.architecture))


def test_a_cnn_adapter_names_its_losses_and_trains_all_but_the_window_head(trainable) -> None:
    batch = CropBatch.of_pairs(pair_batch())
    outputs = trainable(batch)
    assert outputs["features"].shape[0] == outputs["logits"].shape[0] == len(batch)
    losses = trainable.losses(batch, outputs)
    parts = {"classification", "mask"} if trainable.reads_canvas else {"classification"}
    assert set(losses) == parts | {OVERALL} and all(torch.isfinite(v) for v in losses.values())
    grouped = {id(p) for group in trainable.parameter_groups() for p in group["params"]}
    head = {id(p) for p in trainable.window_head.parameters()}
    assert grouped.isdisjoint(head) and grouped | head == {id(p) for p in trainable.parameters()}
    with pytest.raises(ValueError, match="labelled"):
        trainable.losses(CropBatch(batch.crops, batch.canvases), outputs)


def test_a_warm_started_window_head_scores_as_the_mean_frame_logit(trainable) -> None:
    trainable.eval()
    features = torch.randn(40, 5, trainable.frame_classifier.linear.in_features)
    trainable.start_window_head(features)
    with torch.no_grad():
        windows = trainable.window_head(features).numpy()
        frames = trainable.frame_classifier.linear(features).squeeze(-1).mean(dim=1).numpy()
    assert np.corrcoef(windows, frames)[0, 1] > 0.98
