"""Autoencoder bank: training, save/load, any-size re-rendering, the two synthesis families, the command."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from tests.support.synthetic_faces import face_crop
from tests.training.training_data import clip_entry
from training.data.autoencoders import (
    UPSAMPLERS,
    Autoencoder,
    AutoencoderBank,
    MemberSpec,
    keep_real_colours,
    main,
    mouth_rerender,
    one_shot_rerender,
    reconstruct,
    rerender_blend,
    rerender_whole,
    torch_threads,
    train_bank,
    train_member,
)
from training.data.crop_cache import clip_arrays_path, write_index
from training.data.synthesis_temporal import one_shot_window, sample_one_shot_params

SIZE = 48
TINY_SPECS = (
    MemberSpec("tiny_transposed", "transposed", 2, 8, 4),
    MemberSpec("tiny_pixel_shuffle", "pixel_shuffle", 3, 8, 8),
    MemberSpec("tiny_bilinear", "bilinear", 2, 8, 4),
)
TINY_STEPS = 40


def faces(count: int, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``count`` drawn face crops, shifted a little each, and their landmarks."""
    pairs = [face_crop(size, seed=index, shift=(index % 3 - 1.0, index % 2 * 2.0)) for index in range(count)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def train_tiny(out_dir: Path) -> AutoencoderBank:
    crops, _ = faces(12)
    # One thread: tiny convolutions gain nothing from two, and lose a lot when the cores are busy.
    return train_bank(crops, out_dir, steps_per_member=TINY_STEPS, patch=32, specs=TINY_SPECS, batch=8, threads=1)


@pytest.fixture(scope="module")
def bank_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("bank")
    train_tiny(out_dir)
    return out_dir


@pytest.fixture(scope="module")
def bank(bank_dir: Path) -> AutoencoderBank:
    return AutoencoderBank.load(bank_dir)


def test_tiny_bank_trains_and_loss_drops(bank: AutoencoderBank, bank_dir: Path) -> None:
    assert len(bank) == len(TINY_SPECS)
    info = json.loads((bank_dir / "bank.json").read_text())
    assert info["settings"]["steps_per_member"] == TINY_STEPS and info["settings"]["seed"] == 0
    assert len(info["input_hash"]) == 64
    for member in info["members"]:
        assert member["losses"][-1] < 0.8 * member["losses"][0], member["spec"]["name"]
        assert 0 < member["parameters"] < 1_000_000
        assert np.isfinite(member["held_out_psnr"]) and member["ms_per_256px_frame"] > 0


def test_save_load_round_trip_gives_identical_outputs(bank_dir: Path, tmp_path: Path) -> None:
    original = AutoencoderBank.load(bank_dir)
    original.save(tmp_path)
    reloaded = AutoencoderBank.load(tmp_path)
    window, _ = faces(2)
    for member in range(len(original)):
        np.testing.assert_array_equal(original.rerender(window, member), reloaded.rerender(window, member))
    for path in tmp_path.glob("*.pt"):
        torch.load(path, weights_only=True)  # plain tensors only


def test_training_is_deterministic_per_seed() -> None:
    crops, _ = faces(6)
    with torch_threads(1):
        first, first_losses = train_member(TINY_SPECS[0], crops, seed=3, steps=10, patch=32, batch=4)
        second, second_losses = train_member(TINY_SPECS[0], crops, seed=3, steps=10, patch=32, batch=4)
        other, _ = train_member(TINY_SPECS[0], crops, seed=4, steps=10, patch=32, batch=4)
    assert first_losses == second_losses
    for name, tensor in first.state_dict().items():
        torch.testing.assert_close(tensor, second.state_dict()[name], rtol=0, atol=0)
    assert not torch.equal(first.state_dict()["encoder.0.weight"], other.state_dict()["encoder.0.weight"])


@pytest.mark.parametrize("kind", UPSAMPLERS)
@pytest.mark.parametrize("levels", [1, 2, 3])
def test_every_upsampler_keeps_any_size(kind: str, levels: int) -> None:
    model = Autoencoder(MemberSpec(f"{kind}_{levels}", kind, levels, 8, 4)).eval()
    with torch.inference_mode():
        for height, width in ((37, 50), (33, 33), (5, 9)):
            output = reconstruct(model, torch.rand(1, 3, height, width))
            assert output.shape == (1, 3, height, width)
            assert float(output.min()) >= 0.0 and float(output.max()) <= 1.0


def test_rerender_keeps_shape_and_dtype(bank: AutoencoderBank) -> None:
    window = np.random.default_rng(0).integers(0, 256, size=(3, 45, 51, 3), dtype=np.uint8)
    for member in range(len(bank)):
        output = bank.rerender(window, member)
        assert output.shape == window.shape and output.dtype == np.uint8


def test_members_differ_from_each_other_and_from_the_input(bank: AutoencoderBank) -> None:
    window, _ = faces(2)
    outputs = [bank.rerender(window, member).astype(int) for member in range(len(bank))]
    for index, output in enumerate(outputs):
        assert np.abs(output - window).mean() > 0.5, "a member must not be an identity map"
        for other in outputs[index + 1 :]:
            assert np.abs(output - other).mean() > 0.5, "members must re-render differently"


def test_rerender_whole_covers_the_crop(bank: AutoencoderBank) -> None:
    crops, landmarks = faces(4)
    fake, mask = rerender_whole(crops, landmarks, np.random.default_rng(1), SimpleNamespace(autoencoders=bank))
    assert fake.shape == crops.shape and fake.dtype == np.uint8
    assert mask.shape == crops.shape[:3] and mask.dtype == np.float32 and np.all(mask == 1.0)
    assert np.abs(fake.astype(int) - crops).mean() > 0.5


def assert_pasted_through_the_mask(crops: np.ndarray, fake: np.ndarray, mask: np.ndarray) -> None:
    """Real pixels where the mask is 0, changed ones where it is clearly on."""
    assert fake.shape == crops.shape and fake.dtype == np.uint8
    assert mask.shape == crops.shape[:3] and mask.dtype == np.float32
    outside = mask == 0
    np.testing.assert_array_equal(fake[outside], crops[outside])
    inside = mask > 0.4
    assert inside.any() and np.abs(fake[inside].astype(int) - crops[inside]).mean() > 0.5


def test_rerender_blend_keeps_pixels_outside_the_mask(bank: AutoencoderBank) -> None:
    crops, landmarks = faces(4)
    context = SimpleNamespace(autoencoders=bank)
    for seed in range(8):
        fake, mask = rerender_blend(crops, landmarks, np.random.default_rng(seed), context)
        assert_pasted_through_the_mask(crops, fake, mask)
        assert (mask[:, 0, 0] == 0).all(), "corners far from the face must stay real"


def test_mouth_rerender_replaces_the_mouth_and_nothing_above_the_nose(bank: AutoencoderBank) -> None:
    crops, landmarks = faces(4, size=96)
    context = SimpleNamespace(autoencoders=bank)
    for seed in range(8):
        fake, mask = mouth_rerender(crops, landmarks, np.random.default_rng(seed), context)
        assert_pasted_through_the_mask(crops, fake, mask)
        for frame, points in zip(mask, landmarks, strict=True):
            above_nose = int(points[27:31, 1].mean())  # the nose bridge: eyes and brows lie above it
            assert not frame[:above_nose].any(), "a lip-sync fake must leave the eyes real"
            mouth_x, mouth_y = np.rint(points[48:68].mean(0)).astype(int)
            assert frame[mouth_y, mouth_x] > 0.4, "the mouth itself is pasted"


def test_one_shot_rerender_is_the_rendered_animation_of_one_frame(bank: AutoencoderBank) -> None:
    crops, landmarks = faces(4, size=96)
    context = SimpleNamespace(autoencoders=bank)
    for seed in range(4):
        fake, mask = one_shot_rerender(crops, landmarks, np.random.default_rng(seed), context)
        assert fake.shape == crops.shape and fake.dtype == np.uint8
        assert mask.shape == crops.shape[:3] and mask.dtype == np.float32 and np.all(mask == 1.0)
        # The same draws by hand (member, then animation): frame 0 animated, then rendered.
        rng = np.random.default_rng(seed)
        member = int(rng.integers(len(bank)))
        animated, _ = one_shot_window(crops, landmarks, sample_one_shot_params(rng))
        np.testing.assert_array_equal(fake, keep_real_colours(animated, bank.rerender(animated, member)))
        # Neither the real frames re-rendered (the motion is the animation's) nor the animation as it was.
        real_rendered = keep_real_colours(crops, bank.rerender(crops, member))
        assert np.abs(fake[1:].astype(int) - real_rendered[1:]).mean() > 0.5
        assert np.abs(fake.astype(int) - animated).mean() > 0.5


@pytest.mark.parametrize("family", [rerender_whole, rerender_blend, mouth_rerender, one_shot_rerender])
def test_families_are_deterministic_given_the_rng(bank: AutoencoderBank, family: Callable) -> None:
    crops, landmarks = faces(3)
    context = SimpleNamespace(autoencoders=bank)
    first = family(crops, landmarks, np.random.default_rng(7), context)
    second = family(crops, landmarks, np.random.default_rng(7), context)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    # Different draws pick different members over a few windows.
    outputs = {family(crops, landmarks, np.random.default_rng(seed), context)[0].tobytes() for seed in range(8)}
    assert len(outputs) > 1


def write_cache(root: Path) -> None:
    """A crop cache with two real clips and one fake clip of drawn faces."""
    clip_arrays_path(root, "").parent.mkdir(parents=True)
    entries = []
    for index, (clip, label) in enumerate((("real_a", "real"), ("real_b", "real"), ("fake_c", "fake"))):
        crops, landmarks = faces(4 + index, size=40)
        np.savez(
            clip_arrays_path(root, clip),
            crops=crops,
            landmarks=landmarks,
            segment=np.zeros(len(crops), dtype=np.int32),
        )
        entries.append(clip_entry(clip, label, crops=len(crops)))
    write_index(root, entries)


def test_command_reuses_an_existing_bank(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache, out = tmp_path / "cache", tmp_path / "bank"
    write_cache(cache)
    clips = tmp_path / "train_clips.txt"
    clips.write_text("real_a\nfake_c\n")
    argv = ["--cache", str(cache), "--out", str(out), "--clips", str(clips), "--threads", "1", "--steps", "3"]

    main(argv)
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["trained"] is True
    assert first["crops"][0] == 4, "only the listed real clip is used, never a fake one"
    stamps = {path.name: path.stat().st_mtime_ns for path in out.iterdir()}

    main(argv)
    captured = capsys.readouterr()
    second = json.loads(captured.out.strip().splitlines()[-1])
    assert second["trained"] is False and "reusing" in captured.err
    assert {path.name: path.stat().st_mtime_ns for path in out.iterdir()} == stamps
    assert second["members"] == first["members"]

    main([*argv[:-1], "4"])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["trained"] is True, "new settings retrain"
