"""Training and evaluation windows over the crop cache: aligned real / fake pairs through one degradation chain.

Every training item is a *pair*: a real window and a fake made from that very window by a synthesis
family (or, for provided fakes, a window of the fake and a window of its real twin), then both put
through the same random augmentation and the same degradation history (blur, noise, resizing,
H.264 re-encode, JPEG), so sharpness, resolution and compression carry no label: the only
difference left between the two members is the manipulation. Model inputs are derived from the
degraded native canvases exactly as the live engine derives them (``faces.crops.crop_from_canvas``).

Randomness comes from ``(seed, epoch, index)``, so runs are reproducible whatever the number of
loader workers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from faces.crops import crop_from_canvas
from models.preprocess import canvas_input, crop_input
from training.data.augment import AugmentParams, augment_window, identity_params, sample_augment_params
from training.data.crop_cache import ClipEntry, load_clip, read_index
from training.data.degrade import DegradeParams, degrade_window, identity_degradation, sample_degradation
from training.data.families import FAMILIES, SynthesisContext
from training.data.splits import method_name

PROVIDED = "provided"  # the kind of a window of a provided (collected) fake


@dataclass
class CachedClip:
    """One cached clip held in memory."""

    entry: ClipEntry
    crops: np.ndarray  # (N, C, C, 3) uint8 native canvases
    canvas_side: np.ndarray  # (N,) side of the margin crop in each canvas
    landmarks: np.ndarray  # (N, 68, 2) float32, canvas pixels
    segment: np.ndarray  # (N,) segment id; crops of one segment are consecutive frames

    @property
    def clip_id(self) -> str:
        return self.entry.clip_id

    def window_starts(self, length: int) -> list[int]:
        """Start indices of windows of ``length`` crops that stay inside one segment."""
        starts = []
        for segment in np.unique(self.segment):
            positions = np.flatnonzero(self.segment == segment)
            run = len(positions)
            if run >= length:
                starts.extend(range(positions[0], positions[0] + run - length + 1))
            else:
                starts.append(int(positions[0]))
        return starts

    def window_indices(self, start: int, length: int) -> np.ndarray:
        """Indices of a window from ``start``; a segment shorter than ``length`` (or a still) repeats
        cyclically rather than running into the next segment."""
        positions = np.flatnonzero((self.segment == self.segment[start]) & (np.arange(len(self.segment)) >= start))
        return positions[np.arange(length) % len(positions)]

    def window(self, start: int, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Canvases, crop sides and landmarks of the window starting at ``start``."""
        indices = self.window_indices(start, length)
        return self.crops[indices], self.canvas_side[indices], self.landmarks[indices]


def load_bank(cache: Path, clip_ids: set[str] | None = None) -> dict[str, CachedClip]:
    """Loads cached clips (all, or those in ``clip_ids``) into memory."""
    bank = {}
    for entry in read_index(cache):
        if clip_ids is not None and entry.clip_id not in clip_ids:
            continue
        arrays = load_clip(cache, entry)
        bank[entry.clip_id] = CachedClip(
            entry, arrays["crops"], arrays["canvas_side"], arrays["landmarks"], arrays["segment"]
        )
    return bank


@dataclass(frozen=True)
class ModelInputs:
    """The normalisation a model expects: RGB crop side, mean and std (the spec's)."""

    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def crops(self, canvases: np.ndarray, sides: np.ndarray) -> np.ndarray:
        """(T, S, S, 3) uint8 RGB crops derived from (T, C, C, 3) canvases, as the engine derives them."""
        return np.stack([crop_from_canvas(c, s, self.input_size) for c, s in zip(canvases, sides, strict=True)])

    def crop_tensor(self, crops: np.ndarray) -> torch.Tensor:
        """(T, S, S, 3) uint8 -> (T, 3, S, S) normalised float."""
        return torch.from_numpy(crop_input(crops, self.mean, self.std))


def canvas_tensor(canvases: np.ndarray) -> torch.Tensor:
    """(T, C, C, 3) uint8 -> (T, 3, C, C) float in [0, 1] (the residual branch's input)."""
    return torch.from_numpy(canvas_input(canvases))


@dataclass(frozen=True)
class PairMix:
    """How often each kind of fake is the fake half of a pair (normalised over the available kinds)."""

    families: tuple[tuple[str, float], ...] = (
        ("self_blend", 0.16),
        ("swap", 0.08),
        ("mouth_blend", 0.12),
        ("eyes_blend", 0.05),
        ("rerender_whole", 0.12),
        ("rerender_blend", 0.10),
        ("one_shot", 0.06),
        ("frozen_background", 0.03),
        ("flicker", 0.03),
        ("interpolated", 0.03),
    )
    provided: float = 0.22  # collected fakes of the training split, method-balanced

    def weights(self, available: set[str], has_provided: bool) -> tuple[list[str], np.ndarray]:
        kinds = [name for name, _ in self.families if name in available]
        weights = [weight for name, weight in self.families if name in available]
        if has_provided:
            kinds.append(PROVIDED)
            weights.append(self.provided)
        values = np.array(weights, dtype=np.float64)
        return kinds, values / values.sum()


TEMPORAL_MIX = PairMix(
    families=(
        ("self_blend", 0.08),
        ("swap", 0.04),
        ("mouth_blend", 0.08),
        ("eyes_blend", 0.03),
        ("rerender_whole", 0.07),
        ("rerender_blend", 0.06),
        ("one_shot", 0.14),
        ("frozen_background", 0.12),
        ("flicker", 0.12),
        ("interpolated", 0.12),
    ),
    provided=0.14,
)


@dataclass(frozen=True)
class Pair:
    """A real window and its fake twin, before augmentation and degradation."""

    real: np.ndarray  # (T, C, C, 3) canvases
    real_sides: np.ndarray
    fake: np.ndarray
    fake_sides: np.ndarray
    mask: np.ndarray | None  # (T, C, C) synthesis mask; None for provided fakes (unknown)
    kind: str


class PairDataset(Dataset):
    """Random aligned pairs of windows for training.

    ``real_ids`` feed real windows, synthesis and swap donors (another identity); ``fake_ids`` are
    provided fakes, drawn method-first so a method with few clips is seen as often as one with many,
    and paired with a real window of their own footage group when the training split has one.
    Each item: inputs of both members stacked (2, T, ...), labels (0, 1), mask targets (2, T, C, C),
    mask weights (2,) and the fake's kind.
    """

    def __init__(
        self,
        bank: dict[str, CachedClip],
        real_ids: list[str],
        fake_ids: list[str],
        length: int,
        inputs: ModelInputs,
        epoch_size: int,
        seed: int = 0,
        mix: PairMix = PairMix(),
        autoencoders: object | None = None,
        augment: bool = True,
    ) -> None:
        if not real_ids:
            raise ValueError("pairs need at least one real clip")
        self.bank = bank
        self.real_ids = sorted(real_ids)
        self.length = length
        self.inputs = inputs
        self.epoch_size = epoch_size
        self.seed = seed
        self.epoch = 0
        self.augment = augment
        self.autoencoders = autoencoders
        methods: dict[str, list[str]] = {}
        for clip_id in sorted(fake_ids):
            methods.setdefault(method_name(bank[clip_id].entry.method), []).append(clip_id)
        self.methods = [methods[name] for name in sorted(methods)]
        reals_of_group: dict[str, list[str]] = {}
        for clip_id in self.real_ids:
            reals_of_group.setdefault(bank[clip_id].entry.group, []).append(clip_id)
        self.reals_of_group = reals_of_group
        identities = {bank[c].entry.identity for c in self.real_ids}
        available = {
            name
            for name, family in FAMILIES.items()
            if (not family.needs_donor or len(identities) > 1) and (not family.needs_autoencoders or autoencoders)
        }
        self.kinds, self.probabilities = mix.weights(available, has_provided=bool(self.methods))

    def set_epoch(self, epoch: int) -> None:
        """Draw different pairs next epoch."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.epoch_size

    def _random_window(self, rng: np.random.Generator, clip_ids: list[str]) -> tuple[CachedClip, tuple]:
        clip = self.bank[clip_ids[int(rng.integers(len(clip_ids)))]]
        starts = clip.window_starts(self.length)
        return clip, clip.window(starts[int(rng.integers(len(starts)))], self.length)

    def sample_pair(self, index: int) -> Pair:
        """The pair of item ``index`` before augmentation and degradation."""
        rng = np.random.default_rng([self.seed, self.epoch, index])
        kind = self.kinds[int(rng.choice(len(self.kinds), p=self.probabilities))]
        if kind == PROVIDED:
            clips = self.methods[int(rng.integers(len(self.methods)))]
            fake_clip, (fake, fake_sides, _) = self._random_window(rng, clips)
            twins = self.reals_of_group.get(fake_clip.entry.group) or self.real_ids
            _, (real, real_sides, _) = self._random_window(rng, twins)
            return Pair(real, real_sides, fake, fake_sides, None, kind)
        clip, (real, sides, landmarks) = self._random_window(rng, self.real_ids)
        donor = None
        if FAMILIES[kind].needs_donor:
            others = [c for c in self.real_ids if self.bank[c].entry.identity != clip.entry.identity]
            _, (donor_crops, _, donor_landmarks) = self._random_window(rng, others)
            donor = (donor_crops, donor_landmarks)
        context = SynthesisContext(donor=donor, autoencoders=self.autoencoders)
        fake, mask = FAMILIES[kind].make(real, landmarks, rng, context)
        return Pair(real, sides, fake, sides, mask, kind)

    def _member(
        self, canvases: np.ndarray, sides: np.ndarray, augment: AugmentParams, degrade: DegradeParams
    ) -> tuple[torch.Tensor, torch.Tensor]:
        degraded = degrade_window(augment_window(canvases, augment), degrade)
        return self.inputs.crop_tensor(self.inputs.crops(degraded, sides)), canvas_tensor(degraded)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | str]:
        pair = self.sample_pair(index)
        rng = np.random.default_rng([self.seed, self.epoch, index, 1])
        augment = sample_augment_params(rng) if self.augment else identity_params()
        degrade = sample_degradation(rng) if self.augment else identity_degradation()
        real_crops, real_canvases = self._member(pair.real, pair.real_sides, augment, degrade)
        fake_crops, fake_canvases = self._member(pair.fake, pair.fake_sides, augment, degrade)
        side = pair.real.shape[1]
        fake_mask = pair.mask if pair.mask is not None else np.zeros((self.length, side, side), np.float32)
        moved_mask = augment_window(fake_mask[..., None], augment, colour=False)[..., 0]
        masks = np.stack([np.zeros_like(fake_mask), moved_mask])
        return {
            "crops": torch.stack([real_crops, fake_crops]),
            "canvases": torch.stack([real_canvases, fake_canvases]),
            "labels": torch.tensor([0.0, 1.0]),
            "masks": torch.from_numpy(np.ascontiguousarray(masks, dtype=np.float32)),
            "mask_weights": torch.tensor([1.0, 0.0 if pair.mask is None else 1.0]),
            "kind": pair.kind,
        }


@dataclass(frozen=True)
class EvalWindow:
    """A fixed window of one clip (or of a synthetic fake made from one) for validation and tests."""

    clip_id: str  # scored unit: a cached clip id, or "<clip_id>#<family>" for a synthesized one
    label: int
    kind: str  # "real", "provided" or a synthesis family
    canvases: np.ndarray  # (T, C, C, 3) uint8
    sides: np.ndarray  # (T,)


def evaluation_windows(
    bank: dict[str, CachedClip],
    clip_ids: list[str],
    length: int,
    per_clip: int,
    families: tuple[str, ...] = (),
    seed: int = 0,
    autoencoders: object | None = None,
) -> Iterator[EvalWindow]:
    """Up to ``per_clip`` evenly spread windows of each clip and, for real clips, a fake of each window by
    every family in ``families``, scored as the clip ``<clip_id>#<family>``.

    A family's random parameters are seeded by the clip and the family, so all windows of one
    synthesized clip share them (as one manipulated video would) and a clip's fake is the same
    whichever clips are scored with it. Yields lazily: canvases are large.
    """
    for clip_id in sorted(clip_ids):
        clip = bank[clip_id]
        starts = clip.window_starts(length)
        chosen = np.linspace(0, len(starts) - 1, min(per_clip, len(starts))).round().astype(int)
        label = int(clip.entry.label == "fake")
        for start in dict.fromkeys(starts[i] for i in chosen):
            canvases, sides, landmarks = clip.window(start, length)
            yield EvalWindow(clip_id, label, PROVIDED if label else "real", canvases, sides)
            if label:
                continue
            for family in families:
                key = int(hashlib.sha1(f"{clip_id}:{family}".encode()).hexdigest()[:8], 16)
                context = SynthesisContext(autoencoders=autoencoders)
                fake, _ = FAMILIES[family].make(canvases, landmarks, np.random.default_rng([seed, key]), context)
                yield EvalWindow(f"{clip_id}#{family}", 1, family, fake, sides)


def load_autoencoders(path: Path | None) -> object | None:
    """The re-rendering bank (training.data.autoencoders), or None without one."""
    if path is None or not (path / "bank.json").is_file():
        return None
    from training.data.autoencoders import AutoencoderBank

    return AutoencoderBank.load(path)
