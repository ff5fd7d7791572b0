"""Compatibility with the original ResNeXt50 + LSTM project's checkpoints.

The project (github.com/abhijitjadhav1998/Deepfake_detection_using_deep_learning, class ``Model``)
saves a plain state_dict with keys ``model.0`` .. ``model.7`` (a torchvision ResNeXt50-32x4d
without pooling and classifier), ``lstm.weight_ih_l0`` / ``lstm.weight_hh_l0`` and ``linear1``
(2048 -> 2 classes; class 0 is fake, class 1 real). Two quirks are reproduced on purpose, because
its weights were trained with them:

* ``nn.LSTM(2048, 2048, 1, False)`` passes ``bidirectional=False`` into the positional ``bias``
  slot, so the LSTM has no biases;
* the LSTM is not ``batch_first`` but is fed (batch, time, features), so it runs over the batch
  axis: windows scored together share recurrent state in batch order, and each window's logits
  come from the output at its last frame. Score one window per call to match the original app,
  which scored one video at a time.

Inputs: 112 px crops, ImageNet mean/std; the original cropped the face box without margin.
:func:`convert_legacy_checkpoint` wraps such a state_dict into this project's checkpoint format.

    python -m models.legacy ORIGINAL.pt models/checkpoints/legacy_resnext_lstm.pt --window 20
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import nn

from models.architectures import LoadedModel, register_architecture
from models.backbones import IMAGENET_MEAN, IMAGENET_STD
from models.checkpoint import ModelSpec, read_checkpoint, save_checkpoint

ARCHITECTURE = "legacy_resnext_lstm"
FEATURE_DIM = 2048


class LegacyResNeXtLstm(nn.Module):
    """The original ``Model(num_classes=2)``, with ``embed`` / ``score_features`` for the live engine."""

    def __init__(self) -> None:
        super().__init__()
        import torchvision

        trunk = torchvision.models.resnext50_32x4d(weights=None)
        self.model = nn.Sequential(*list(trunk.children())[:-2])
        # Positional arguments exactly as in the original: the 4th one is ``bias``.
        self.lstm = nn.LSTM(FEATURE_DIM, FEATURE_DIM, 1, False)
        self.dp = nn.Dropout(0.4)
        self.linear1 = nn.Linear(FEATURE_DIM, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def embed(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, 2048): trunk feature map, average-pooled."""
        return self.avgpool(self.model(crops)).flatten(1)

    def class_logits(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, 2048) -> (B, 2) logits [fake, real], computed as the original forward does."""
        outputs, _ = self.lstm(features, None)  # not batch_first: dim 0 (batch) is read as time
        return self.dp(self.linear1(outputs[:, -1, :]))

    def score_features(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, 2048) -> (B,) fake logits: logit(softmax(...)[fake]) = fake minus real logit."""
        logits = self.class_logits(features)
        return logits[:, 0] - logits[:, 1]

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        batch, steps = windows.shape[:2]
        return self.score_features(self.embed(windows.flatten(0, 1)).view(batch, steps, -1))


def _build_legacy(spec: ModelSpec, pretrained_backbone: bool) -> LegacyResNeXtLstm:
    # The original's weights always come from its checkpoint; ImageNet initialisation is irrelevant.
    del spec, pretrained_backbone
    return LegacyResNeXtLstm()


register_architecture(ARCHITECTURE, _build_legacy)


def legacy_spec(window: int = 20, threshold: float = 0.5) -> ModelSpec:
    """Spec of an original checkpoint: 112 px, ImageNet normalisation, face box without margin."""
    return ModelSpec(
        architecture=ARCHITECTURE,
        backbone="resnext50_32x4d",
        input_size=112,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        window=window,
        hidden_size=FEATURE_DIM,
        lstm_layers=1,
        crop_margin=1.0,
        aligned=False,
        threshold=threshold,
        temperature=1.0,
        trained=True,
        training_data="original ResNeXt50+LSTM project checkpoint (see that project's README for its data)",
    )


def read_legacy_model(source: Path) -> LegacyResNeXtLstm:
    """An original state_dict file (read with weights_only) loaded into :class:`LegacyResNeXtLstm`."""
    state = torch.load(source, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    model = LegacyResNeXtLstm()
    # DataParallel training saves keys with a "module." prefix.
    model.load_state_dict({key.removeprefix("module."): value for key, value in state.items()})
    return model.eval()


def convert_legacy_checkpoint(source: Path, target: Path, window: int = 20, half_precision: bool = False) -> str:
    """Writes an original checkpoint in this project's format; returns the new file's sha256."""
    return save_checkpoint(target, read_legacy_model(source), legacy_spec(window), half_precision=half_precision)


def load_legacy(source: Path, window: int = 20) -> LoadedModel:
    """An original checkpoint as a ready detector (converted in memory, no file written)."""
    return LoadedModel(read_legacy_model(source), legacy_spec(window), f"legacy checkpoint {source}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="the original project's .pt state_dict")
    parser.add_argument("target", type=Path, help="checkpoint to write in this project's format")
    parser.add_argument("--window", type=int, default=20, help="sequence length the original model was trained on")
    args = parser.parse_args(argv)
    print(convert_legacy_checkpoint(args.source, args.target, args.window))
    print(read_checkpoint(args.target)[0].architecture)


if __name__ == "__main__":
    main()
