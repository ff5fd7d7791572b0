"""The original ResNeXt50+LSTM project's checkpoint layout loads through the registry and scores
exactly as that project's ``Model.forward`` did, batch-axis LSTM included."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from models.legacy import ARCHITECTURE, convert_legacy_checkpoint, load_legacy
from models.registry import load_model


class OriginalModel(nn.Module):
    """The original project's ``Model`` class, as published (reference for the comparison)."""

    def __init__(
        self,
        num_classes: int,
        latent_dim: int = 2048,
        lstm_layers: int = 1,
        hidden_dim: int = 2048,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        model = torchvision.models.resnext50_32x4d(weights=None)
        self.model = nn.Sequential(*list(model.children())[:-2])
        self.lstm = nn.LSTM(latent_dim, hidden_dim, lstm_layers, bidirectional)
        self.relu = nn.LeakyReLU()
        self.dp = nn.Dropout(0.4)
        self.linear1 = nn.Linear(2048, num_classes)
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch_size, seq_length, c, h, w = x.shape
        x = x.view(batch_size * seq_length, c, h, w)
        fmap = self.model(x)
        x = self.avgpool(fmap)
        x = x.view(batch_size, seq_length, 2048)
        x_lstm, _ = self.lstm(x, None)
        return fmap, self.dp(self.linear1(x_lstm[:, -1, :]))


@pytest.fixture(scope="module")
def original_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, OriginalModel]:
    torch.manual_seed(0)
    original = OriginalModel(2).eval()
    path = tmp_path_factory.mktemp("legacy") / "checkpoint_97_acc_20_seq.pt"
    torch.save(original.state_dict(), path)
    return path, original


@pytest.mark.slow
def test_layout_keys_and_shapes(original_file: tuple[Path, OriginalModel]) -> None:
    path, _ = original_file
    state = torch.load(path, weights_only=True)
    assert state["lstm.weight_ih_l0"].shape == (8192, 2048)
    assert "lstm.bias_ih_l0" not in state  # the positional-argument quirk: no LSTM biases
    assert state["model.0.weight"].shape == (64, 3, 7, 7) and "model.7.2.conv3.weight" in state
    assert state["linear1.weight"].shape == (2, 2048)


@pytest.mark.slow
def test_converted_checkpoint_scores_like_the_original(
    original_file: tuple[Path, OriginalModel], tmp_path: Path
) -> None:
    path, original = original_file
    converted = tmp_path / "legacy.pt"
    convert_legacy_checkpoint(path, converted, window=3)
    loaded = load_model(converted)
    assert loaded.spec.architecture == ARCHITECTURE and loaded.spec.input_size == 112 and loaded.spec.window == 3
    torch.manual_seed(1)
    windows = torch.randn(2, 3, 3, 64, 64)
    with torch.no_grad():
        _, reference_logits = original(windows)
        reference_p_fake = torch.softmax(reference_logits, dim=1)[:, 0]  # class 0 is FAKE in the original app
        ours = torch.sigmoid(loaded.model(windows))
        alone = torch.sigmoid(loaded.model(windows[1:]))
    torch.testing.assert_close(ours, reference_p_fake, atol=1e-5, rtol=1e-4)
    # The LSTM runs over the batch axis: window 1 scores differently alone than after window 0.
    assert not torch.allclose(alone, ours[1:], atol=1e-6)
    in_memory = load_legacy(path, window=3)
    with torch.no_grad():
        torch.testing.assert_close(torch.sigmoid(in_memory.model(windows)), ours)
