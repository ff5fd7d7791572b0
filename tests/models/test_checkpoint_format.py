"""Checkpoint round trip, and the files a checkpoint loader must refuse."""

import pickle
from dataclasses import replace

import pytest
import torch

from models.checkpoint import CheckpointError, ModelSpec, read_checkpoint, save_checkpoint
from models.registry import build_model, load_model


@pytest.fixture(scope="module")
def tiny_spec() -> ModelSpec:
    return ModelSpec(input_size=64, window=4, hidden_size=16, trained=True, threshold=0.7, temperature=2.0)


def test_round_trip_keeps_spec_and_outputs(tmp_path, tiny_spec):
    model = build_model(tiny_spec, pretrained_backbone=False).eval()
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, tiny_spec)
    loaded = load_model(path)
    assert loaded.spec == tiny_spec
    windows = torch.rand(2, 4, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded.model(windows), model(windows))


def test_half_precision_storage_halves_the_file_and_loads_as_float32(tmp_path, tiny_spec):
    model = build_model(tiny_spec, pretrained_backbone=False)
    full, half = tmp_path / "full.pt", tmp_path / "half.pt"
    save_checkpoint(full, model, tiny_spec)
    save_checkpoint(half, model, tiny_spec, half_precision=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = load_model(half)
    assert all(p.dtype == torch.float32 for p in loaded.model.parameters())


class Exploit:
    def __reduce__(self):
        return (print, ("pickled code ran",))


def test_pickled_code_is_refused_not_run(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as handle:
        pickle.dump({"format": "deepfake-analyzer-checkpoint", "spec": {}, "state_dict": Exploit()}, handle)
    with pytest.raises(CheckpointError, match="cannot load model checkpoint"):
        read_checkpoint(path)
    assert "pickled code ran" not in capsys.readouterr().out


def test_wrong_spec_version_and_foreign_files_are_refused(tmp_path, tiny_spec):
    path = tmp_path / "future.pt"
    torch.save(
        {
            "format": "deepfake-analyzer-checkpoint",
            "spec": {**tiny_spec.to_dict(), "spec_version": 99},
            "state_dict": {},
        },
        path,
    )
    with pytest.raises(CheckpointError, match="spec version 99"):
        read_checkpoint(path)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(1)}, foreign)
    with pytest.raises(CheckpointError, match="not a checkpoint of this project"):
        read_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint(tmp_path / "absent.pt")


def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path, tiny_spec):
    model = build_model(tiny_spec, pretrained_backbone=False)
    path = tmp_path / "mismatch.pt"
    save_checkpoint(path, model, replace(tiny_spec, hidden_size=32))
    with pytest.raises(CheckpointError, match="does not fit"):
        load_model(path)


def test_a_checkpoint_altered_after_saving_fails_its_sha256_manifest(tmp_path, tiny_spec):
    path = tmp_path / "model.pt"
    save_checkpoint(path, build_model(tiny_spec, pretrained_backbone=False), tiny_spec)
    assert (tmp_path / "model.pt.sha256").read_text().split()[1] == "model.pt"
    load_model(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its sha256 manifest"):
        load_model(path)
