"""Re-rendered fakes from a bank of small convolutional autoencoders trained on real face crops.

Generators leave traces of their upsampling layers (checkerboards from transposed convolutions,
periodic sub-pixel patterns from pixel shuffle, blocky or smooth neighbour correlations from
nearest and bilinear resizing). A bank of tiny autoencoders that differ in upsampler, depth and
width re-renders a real crop with such traces and no generator weights, in the spirit of
AutoGAN's simulated artifacts and of aligned datasets (Rajan et al., ICLR 2025): a real crop and
its re-rendering form a pair whose only difference is the re-rendering.

Two synthesis families use the bank: :func:`rerender_whole` replaces the whole crop (like talking
heads and GAN faces, which re-render everything) and :func:`rerender_blend` pastes the
re-rendering back through a soft face mask (like face swaps).

Command::

    python -m training.data.autoencoders --cache DIR --out DIR [--clips FILE] [--seed 0] [--max-crops N]

trains the bank on the real crops of a crop cache, or reuses ``--out`` when it already holds a bank
trained on the same input and settings, and prints one JSON line of figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional

from training.data.crop_cache import load_clip, read_index
from training.data.synthesis import blend, face_mask, sample_blend_params
from training.data.synthesis_region import low_resolution_source, region_mask_in_box, sample_mouth_params
from training.data.synthesis_temporal import one_shot_window, sample_one_shot_params

UPSAMPLERS = ("transposed", "pixel_shuffle", "nearest", "bilinear")
BANK_FILE = "bank.json"
FORMAT_VERSION = 1
MAX_CHANNELS = 48
RESIZE_MIN_CHANNELS = 8
TRAIN_THREADS = 2
HELD_OUT_FRACTION = 0.1
HELD_OUT_SCORED = 64  # held-out crops scored for PSNR, evenly spaced: a stable mean, cheap to run
L2_WEIGHT = 0.1
LEARNING_RATE = 2e-3
RERENDER_CHUNK = 4  # frames per forward pass in AutoencoderBank.rerender


@dataclass(frozen=True)
class MemberSpec:
    """Architecture of one bank member."""

    name: str
    upsample: str  # one of UPSAMPLERS
    levels: int  # stride-2 stages; the bottleneck has stride 2**levels
    width: int  # channels at half resolution, doubled per level up to MAX_CHANNELS
    latent: int  # bottleneck channels; fewer makes the reconstruction lossier

    @property
    def stride(self) -> int:
        return 2**self.levels


# Kinds, depths and widths are crossed so that no single trait identifies a member. Latent widths
# were picked to put held-out PSNR near 26-30 dB on real face crops (lossy, not an identity map);
# the stride-8 members need more latent channels than the stride-4 ones for the same quality.
DEFAULT_BANK = (
    MemberSpec("transposed_s4", "transposed", 2, 12, 8),
    MemberSpec("pixel_shuffle_s4", "pixel_shuffle", 2, 16, 8),
    MemberSpec("nearest_s4", "nearest", 2, 16, 12),
    MemberSpec("bilinear_s4", "bilinear", 2, 16, 12),
    MemberSpec("transposed_s8", "transposed", 3, 16, 48),
    MemberSpec("pixel_shuffle_s8", "pixel_shuffle", 3, 12, 48),
    MemberSpec("nearest_s8", "nearest", 3, 16, 48),
    MemberSpec("bilinear_s8", "bilinear", 3, 16, 48),
)


def _upsampler(kind: str, in_channels: int, out_channels: int) -> nn.Module:
    """A layer that doubles the resolution and maps ``in_channels`` to ``out_channels``."""
    if kind == "transposed":
        # Kernel 4, stride 2: the DCGAN layer whose uneven overlap leaves checkerboards.
        return nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1)
    if kind == "pixel_shuffle":
        return nn.Sequential(nn.Conv2d(in_channels, 4 * out_channels, 3, padding=1), nn.PixelShuffle(2))
    if kind in ("nearest", "bilinear"):
        # Resize-convolution; a 1x1 squeeze first keeps the 3x3 at the doubled size cheap.
        middle = min(in_channels, max(out_channels, RESIZE_MIN_CHANNELS))
        resize = nn.Upsample(scale_factor=2, mode=kind, align_corners=False if kind == "bilinear" else None)
        return nn.Sequential(nn.Conv2d(in_channels, middle, 1), resize, nn.Conv2d(middle, out_channels, 3, padding=1))
    raise ValueError(f"unknown upsampler {kind!r}; expected one of {UPSAMPLERS}")


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=True)


class Autoencoder(nn.Module):
    """Fully convolutional autoencoder on RGB in [0, 1]; input sides must be multiples of the stride.

    Nothing runs at full resolution except the first strided convolution and the last upsampler,
    which maps straight to RGB as GAN output layers do, and the half-resolution level has no extra
    convolution: that keeps a 256 px frame to a few ms and puts the upsampler's own pattern on the
    output pixels.
    """

    def __init__(self, spec: MemberSpec) -> None:
        super().__init__()
        if spec.levels < 1:
            raise ValueError("an autoencoder needs at least one stride-2 level")
        channels = [3] + [min(spec.width * 2**level, MAX_CHANNELS) for level in range(spec.levels)]
        encoder: list[nn.Module] = []
        for level in range(spec.levels):
            encoder += [nn.Conv2d(channels[level], channels[level + 1], 3, stride=2, padding=1), _act()]
            if level > 0:
                encoder += [nn.Conv2d(channels[level + 1], channels[level + 1], 3, padding=1), _act()]
        # The information bottleneck that makes the map lossy: `latent` channels at 1/stride resolution.
        encoder.append(nn.Conv2d(channels[-1], spec.latent, 1))
        decoder: list[nn.Module] = [nn.Conv2d(spec.latent, channels[-1], 3, padding=1), _act()]
        for level in range(spec.levels, 1, -1):
            decoder += [_upsampler(spec.upsample, channels[level], channels[level - 1]), _act()]
            if level > 2:
                decoder += [nn.Conv2d(channels[level - 1], channels[level - 1], 3, padding=1), _act()]
        decoder.append(_upsampler(spec.upsample, channels[1], 3))
        self.spec = spec
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)
        # Channels-last convolutions with so few channels run about twice as fast on CPU.
        self.to(memory_format=torch.channels_last)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] to its reconstruction (unclamped), same size."""
        images = images.contiguous(memory_format=torch.channels_last)
        return self.decoder(self.encoder(images * 2.0 - 1.0)) * 0.5 + 0.5


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def reconstruct(model: Autoencoder, images: torch.Tensor) -> torch.Tensor:
    """Reconstruction of (B, 3, H, W) in [0, 1] for any H, W: padded to the stride, cropped back, clamped."""
    height, width = images.shape[-2:]
    stride = model.spec.stride
    pad_h, pad_w = -height % stride, -width % stride
    # Replicate padding works for any size, unlike reflect, and adds no dark border.
    padded = functional.pad(images, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else images
    return model(padded)[..., :height, :width].clamp(0.0, 1.0)


def to_tensor(window: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 RGB to (T, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(window)).permute(0, 3, 1, 2).float().div_(255.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(T, 3, H, W) in [0, 1] to (T, H, W, 3) uint8."""
    return images.mul(255.0).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def psnr(reference: np.ndarray, rendered: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 arrays (mean squared error over all pixels)."""
    mse = float(np.mean((reference.astype(np.float64) - rendered.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


class AutoencoderBank:
    """Trained autoencoders that re-render real crops; ``info`` is the content of ``bank.json``."""

    def __init__(self, models: list[Autoencoder], info: dict[str, Any]) -> None:
        self.models = models
        self.info = info
        for model in models:
            model.eval()

    def __len__(self) -> int:
        return len(self.models)

    @property
    def specs(self) -> list[MemberSpec]:
        return [model.spec for model in self.models]

    def rerender(self, window: np.ndarray, member: int) -> np.ndarray:
        """(T, H, W, 3) uint8 RGB re-rendered by one member, same shape and dtype."""
        model = self.models[member]
        with torch.inference_mode():
            # A few frames at a time keep the activations in cache: about 20% faster than a whole window.
            chunks = [
                to_uint8(reconstruct(model, to_tensor(window[start : start + RERENDER_CHUNK])))
                for start in range(0, len(window), RERENDER_CHUNK)
            ]
        return np.concatenate(chunks)

    def save(self, out_dir: Path) -> None:
        """Writes each member's state_dict and ``bank.json`` into ``out_dir``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        # bank.json is written last and its presence marks a complete bank, so drop a stale one first.
        (out_dir / BANK_FILE).unlink(missing_ok=True)
        for index, model in enumerate(self.models):
            torch.save(model.state_dict(), out_dir / _weights_name(index, model.spec))
        (out_dir / BANK_FILE).write_text(json.dumps(self.info, indent=2) + "\n")

    @classmethod
    def load(cls, out_dir: Path) -> AutoencoderBank:
        """The bank saved in ``out_dir`` (weights loaded with ``weights_only=True``)."""
        info = json.loads((Path(out_dir) / BANK_FILE).read_text())
        models = []
        for index, member in enumerate(info["members"]):
            spec = MemberSpec(**member["spec"])
            model = Autoencoder(spec)
            state = torch.load(Path(out_dir) / _weights_name(index, spec), map_location="cpu", weights_only=True)
            model.load_state_dict(state)
            models.append(model)
        return cls(models, info)


def _weights_name(index: int, spec: MemberSpec) -> str:
    return f"member_{index}_{spec.name}.pt"


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Runs the block with ``count`` torch threads, then restores the caller's setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def input_hash(crops: np.ndarray) -> str:
    """SHA-256 of the training crops' shape and bytes."""
    digest = hashlib.sha256(repr(crops.shape).encode())
    digest.update(np.ascontiguousarray(crops).data)
    return digest.hexdigest()


def split_held_out(crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out): the last tenth is held out; callers pass clips in order, so it is other clips."""
    held = max(1, int(len(crops) * HELD_OUT_FRACTION))
    if len(crops) <= held:
        return crops, crops
    return crops[:-held], crops[-held:]


def sample_patches(crops: np.ndarray, rng: np.random.Generator, batch: int, patch: int) -> torch.Tensor:
    """A batch of random ``patch`` px squares from random crops, half of them mirrored, as (B, 3, P, P)."""
    count, height, width = crops.shape[:3]
    picks = rng.integers(0, count, batch)
    tops = rng.integers(0, height - patch + 1, batch)
    lefts = rng.integers(0, width - patch + 1, batch)
    flips = rng.random(batch) < 0.5
    patches = np.stack(
        [
            crops[i, y : y + patch, x : x + patch][:, :: -1 if flip else 1]
            for i, y, x, flip in zip(picks, tops, lefts, flips, strict=True)
        ]
    )
    return to_tensor(patches)


def train_member(
    spec: MemberSpec,
    crops: np.ndarray,
    seed: int,
    steps: int,
    patch: int,
    batch: int,
    log: Callable[[str], None] | None = None,
) -> tuple[Autoencoder, list[float]]:
    """One member trained on random patches with L1 + a little L2, AdamW and a cosine schedule.

    Returns the model and its mean loss per tenth of training (to show the loss dropping).
    """
    rng = np.random.default_rng(seed)
    # A forked RNG seeds the initial weights without touching the caller's global torch RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Autoencoder(spec)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE, total_steps=steps, pct_start=0.05)
    # The patch must fit in the crops and be a multiple of the stride; tiny test crops shrink it.
    size = min(patch, crops.shape[1], crops.shape[2]) // spec.stride * spec.stride
    chunk = max(1, steps // 10)
    losses, running = [], 0.0
    for step in range(steps):
        images = sample_patches(crops, rng, batch, size)
        output = model(images)
        loss = functional.l1_loss(output, images) + L2_WEIGHT * functional.mse_loss(output, images)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        running += float(loss.detach())
        if (step + 1) % chunk == 0 or step + 1 == steps:
            losses.append(running / ((step % chunk) + 1))
            running = 0.0
            if log is not None:
                log(f"{spec.name}: step {step + 1}/{steps} loss {losses[-1]:.4f}")
    model.eval()
    return model, losses


def held_out_psnr(model: Autoencoder, crops: np.ndarray) -> float:
    """Mean PSNR (dB) of the model's reconstructions of (at most HELD_OUT_SCORED) whole held-out crops."""
    crops = crops[np.linspace(0, len(crops) - 1, min(len(crops), HELD_OUT_SCORED)).round().astype(int)]
    bank = AutoencoderBank([model], {})
    scores = [psnr(crop[None], bank.rerender(crop[None], 0)) for crop in crops]
    return float(np.mean(scores))


def ms_per_frame(model: Autoencoder, side: int = 256, repeats: int = 10) -> float:
    """Median milliseconds to re-render one ``side`` px frame with one torch thread."""
    frame = torch.rand(1, 3, side, side)
    timings = []
    with torch_threads(1), torch.inference_mode():
        reconstruct(model, frame)  # warm-up: first call allocates and picks kernels
        for _ in range(repeats):
            start = time.perf_counter()
            reconstruct(model, frame)
            timings.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(timings))


def bank_settings(specs: tuple[MemberSpec, ...], seed: int, steps: int, patch: int, batch: int) -> dict[str, Any]:
    """Everything besides the input that determines a trained bank (compared to reuse one)."""
    return {
        "format": FORMAT_VERSION,
        "seed": seed,
        "steps_per_member": steps,
        "patch": patch,
        "batch": batch,
        "specs": [asdict(spec) for spec in specs],
    }


def train_bank(
    crops: np.ndarray,
    out_dir: Path,
    seed: int = 0,
    steps_per_member: int = 2500,
    patch: int = 64,
    log: Callable[[str], None] | None = None,
    specs: tuple[MemberSpec, ...] = DEFAULT_BANK,
    batch: int = 16,
    threads: int = TRAIN_THREADS,
) -> AutoencoderBank:
    """Trains every member on random patches of real ``crops`` (N, H, W, 3) uint8 and saves the bank.

    Deterministic per ``seed`` for a given torch build and thread count; trains with ``threads`` torch threads.
    ``out_dir`` gets one state_dict per member and ``bank.json`` with the specs, training settings,
    held-out PSNR, timings and the hash of ``crops``.
    """
    train, held_out = split_held_out(crops)
    members = []
    models = []
    started = time.perf_counter()
    with torch_threads(threads):
        for index, spec in enumerate(specs):
            member_started = time.perf_counter()
            model, losses = train_member(spec, train, seed * 1000 + index, steps_per_member, patch, batch, log)
            train_seconds = time.perf_counter() - member_started
            models.append(model)
            members.append(
                {
                    "spec": asdict(spec),
                    "parameters": parameter_count(model),
                    "train_seconds": round(train_seconds, 1),
                    "losses": [round(value, 5) for value in losses],
                    "held_out_psnr": round(held_out_psnr(model, held_out), 2),
                    "ms_per_256px_frame": round(ms_per_frame(model), 2),
                }
            )
            if log is not None:
                log(f"{spec.name}: held-out PSNR {members[-1]['held_out_psnr']} dB in {train_seconds:.0f} s")
    info = {
        "settings": bank_settings(specs, seed, steps_per_member, patch, batch),
        "input_hash": input_hash(crops),
        "crops": list(crops.shape),
        "held_out_crops": len(held_out),
        "train_seconds": round(time.perf_counter() - started, 1),
        "members": members,
    }
    bank = AutoencoderBank(models, info)
    bank.save(Path(out_dir))
    return bank


def _choose_member(rng: np.random.Generator, context: Any) -> tuple[AutoencoderBank, int]:
    bank = context.autoencoders
    return bank, int(rng.integers(len(bank)))


COLOUR_SIGMA = 1 / 32  # of the crop side: colour and shading below this scale are kept from the real


def keep_real_colours(real: np.ndarray, rendered: np.ndarray) -> np.ndarray:
    """The re-rendering's fine detail on the real crops' colours and shading, (T, H, W, 3) uint8.

    Small autoencoders also shift colours (a pink or grey cast on some members); kept, that cast
    would teach "unusual colour = fake", which real cameras and grading break every day. Only what
    the re-rendering changes at fine scale, where generator traces live, stays.
    """
    out = []
    for real_frame, fake_frame in zip(real, rendered, strict=True):
        sigma = COLOUR_SIGMA * max(real_frame.shape[:2])
        real_f, fake_f = real_frame.astype(np.float32), fake_frame.astype(np.float32)
        low_real = cv2.GaussianBlur(real_f, (0, 0), sigma)
        low_fake = cv2.GaussianBlur(fake_f, (0, 0), sigma)
        out.append(np.clip(np.rint(fake_f - low_fake + low_real), 0, 255).astype(np.uint8))
    return np.stack(out)


def rerender_whole(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The whole window re-rendered by one random member of ``context.autoencoders`` (real colours kept).

    The mask is all ones, (T, H, W) float32: every pixel of the crop is re-rendered, as in talking
    heads and GAN faces. ``landmarks`` are unused; the member is drawn once per window.
    """
    bank, member = _choose_member(rng, context)
    fake = keep_real_colours(crops, bank.rerender(crops, member))
    return fake, np.ones(crops.shape[:3], dtype=np.float32)


def rerender_blend(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: Any
) -> tuple[np.ndarray, np.ndarray]:
    """One random member's re-rendering (real colours kept) pasted into the real crops through a soft face mask.

    Member and mask parameters are drawn once per window; each frame's mask follows its own 68
    landmarks. Pixels where the mask is 0 equal the real ones. Returns the fake (T, H, W, 3) uint8
    and the masks (T, H, W) float32.
    """
    bank, member = _choose_member(rng, context)
    params = sample_blend_params(rng)
    rendered = keep_real_colours(crops, bank.rerender(crops, member))
    fakes, masks = [], []
    for real, fake, points in zip(crops, rendered, landmarks, strict=True):
        mask = face_mask(real.shape[:2], points, params)
        fakes.append(blend(real, fake, mask))
        masks.append(mask)
    return np.stack(fakes), np.stack(masks)


# Resolution drop of the generated mouth: the face then spans about 80-130 px, as Wav2Lip's 96 px faces
# and the 128 px of its successors do. At 4x (the plain mouth blend's deepest) the lips blur away, which
# no lip-sync generator's output shows.
GENERATED_MOUTH_FACTORS = (1.5, 2.5)


def mouth_rerender(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Lip-sync-style fake: the mouth or the lower face generated at a low resolution and pasted back.

    Lip-sync generators (Wav2Lip at 96 px faces, its higher-resolution successors) synthesise the
    lower face with a network, below the frame's resolution, and paste it through a mask: smooth
    lips and skin, blurred teeth. :func:`training.data.synthesis_region.mouth_blend_window` imitates
    only the resolution drop. Here the crop is re-rendered by one random member (real colours kept;
    re-rendering an already down-scaled crop erases the lips, the members being trained at full
    size), down-scaled by 1.5-2.5x and restored, offset and colour-shifted as the region parameters
    say, and blended through the mouth or lower-face mask. Member and parameters are drawn once per
    window; pixels where the mask is 0 equal the real ones. Returns the fake (T, H, W, 3) uint8 and
    the masks (T, H, W) float32.
    """
    bank, member = _choose_member(rng, context)
    params = replace(sample_mouth_params(rng), factor=float(rng.uniform(*GENERATED_MOUTH_FACTORS)))
    generated = keep_real_colours(crops, bank.rerender(crops, member))
    fakes, masks = [], []
    for real, rendered, points in zip(crops, generated, landmarks, strict=True):
        source = low_resolution_source(rendered, params)
        box, local = region_mask_in_box(real.shape[:2], points, params)
        fake, mask = real.copy(), np.zeros(real.shape[:2], dtype=np.float32)
        if local.size:
            fake[box] = blend(real[box], source[box], local)
            mask[box] = local
        fakes.append(fake)
        masks.append(mask)
    return np.stack(fakes), np.stack(masks)


def one_shot_rerender(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: Any
) -> tuple[np.ndarray, np.ndarray]:
    """One-shot talking-head-style fake: one reference frame animated along the window's landmarks, and every
    animated frame rendered by a network.

    One-shot talking-head generators (SadTalker, DreamTalk, AniTalker, VASA-1) do both: they move a single
    portrait by warping (its features or its pixels) and decode every frame with a generator. ``one_shot``
    imitates only the warp (the frames keep the reference's camera pixels) and ``rerender_whole`` only the
    decoder (the motion is the real one). Here frame 0 is warped along every frame's landmarks
    (:func:`training.data.synthesis_temporal.one_shot_window`) and the animated frames are re-rendered by one
    random member, real colours kept. No further drop in resolution: the members already render below the
    crop's detail (the stride-8 ones visibly soften it), and more blur would teach "blurry = fake". Member and
    animation are drawn once per window. The mask is all ones, (T, H, W) float32: every pixel is synthesised.
    Returns the fake (T, H, W, 3) uint8 and the masks.
    """
    bank, member = _choose_member(rng, context)
    animated, _ = one_shot_window(crops, landmarks, sample_one_shot_params(rng))
    return keep_real_colours(animated, bank.rerender(animated, member)), np.ones(crops.shape[:3], dtype=np.float32)


def read_real_crops(cache: Path, clip_ids: set[str] | None, max_crops: int) -> tuple[np.ndarray, list[str]]:
    """Crops of the cache's real clips (optionally only ``clip_ids``), evenly thinned to ``max_crops``.

    Clips are read in sorted id order so the same cache gives the same array (and input hash).
    """
    chosen = sorted(
        (e for e in read_index(cache) if e.label == "real" and (clip_ids is None or e.clip_id in clip_ids)),
        key=lambda entry: entry.clip_id,
    )
    if not chosen:
        raise SystemExit(f"no real clips to train on in {cache}")
    arrays = [load_clip(cache, entry)["crops"] for entry in chosen]
    crops = np.concatenate(arrays)
    if len(crops) > max_crops:
        # Even thinning keeps every clip represented and the held-out tail made of the last clips.
        crops = crops[np.linspace(0, len(crops) - 1, max_crops).round().astype(int)]
    return crops, [entry.clip_id for entry in chosen]


def reusable(out_dir: Path, crops_hash: str, settings: dict[str, Any]) -> bool:
    """Whether ``out_dir`` holds a complete bank trained on the same input and settings."""
    path = out_dir / BANK_FILE
    if not path.exists():
        return False
    info = json.loads(path.read_text())
    return info.get("input_hash") == crops_hash and info.get("settings") == settings


def summary(bank: AutoencoderBank, out_dir: Path, trained: bool) -> dict[str, Any]:
    """The figures printed by the command."""
    return {
        "out": str(out_dir),
        "trained": trained,
        "crops": bank.info["crops"],
        "train_seconds": bank.info["train_seconds"],
        "members": [
            {
                "name": member["spec"]["name"],
                "parameters": member["parameters"],
                "held_out_psnr": member["held_out_psnr"],
                "ms_per_256px_frame": member["ms_per_256px_frame"],
            }
            for member in bank.info["members"]
        ],
    }


def _log(line: str) -> None:
    """Progress goes to stderr so that stdout's last line is the JSON summary."""
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, required=True, help="crop cache folder (index.jsonl, clips/)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the bank's weights and bank.json")
    parser.add_argument("--clips", type=Path, help="file of clip ids to train on, one a line (e.g. the train split)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-crops", type=int, default=4000, help="crops kept, evenly thinned (memory bound)")
    parser.add_argument("--steps", type=int, default=2500, help="training steps per member")
    parser.add_argument("--patch", type=int, default=64, help="training patch side in pixels")
    parser.add_argument("--threads", type=int, default=TRAIN_THREADS, help="torch threads for training")
    args = parser.parse_args(argv)

    clip_ids = None
    if args.clips is not None:
        clip_ids = {line.strip() for line in args.clips.read_text().splitlines() if line.strip()}
    crops, _ = read_real_crops(args.cache, clip_ids, args.max_crops)
    settings = bank_settings(DEFAULT_BANK, args.seed, args.steps, args.patch, batch=16)
    trained = not reusable(args.out, input_hash(crops), settings)
    if trained:
        bank = train_bank(crops, args.out, args.seed, args.steps, args.patch, log=_log, threads=args.threads)
    else:
        _log(f"reusing the bank in {args.out} (same input and settings)")
        bank = AutoencoderBank.load(args.out)
    print(json.dumps(summary(bank, args.out, trained)))


if __name__ == "__main__":
    main()
