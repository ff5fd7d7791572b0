"""PyTorch datasets over the crop cache: real, self-blended, swapped and provided-fake windows.

Each item is one window of ``length`` consecutive crops of one clip (``length=1`` for the
single-crop fine-tuning stage). Randomness comes from ``(seed, epoch, index)``, so runs are
reproducible whatever the number of loader workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from models.data.augment import AugmentParams, augment_window, identity_params, sample_augment_params
from models.data.prepare import load_clip, read_index
from models.data.synthesis import face_swap_window, sample_blend_params, self_blend_window

KINDS = ("real", "self_blend", "swap", "provided_fake")


@dataclass
class CachedClip:
    """One cached clip held in memory."""

    entry: dict
    crops: np.ndarray  # (N, S, S, 3) uint8
    landmarks: np.ndarray  # (N, 68, 2) float32, crop pixels
    segment: np.ndarray  # (N,) segment id; crops of one segment are consecutive frames

    @property
    def clip_id(self) -> str:
        return self.entry["clip_id"]

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

    def window(self, start: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Crops and landmarks of the window starting at ``start``."""
        indices = self.window_indices(start, length)
        return self.crops[indices], self.landmarks[indices]


def load_bank(cache: Path, clip_ids: set[str] | None = None) -> dict[str, CachedClip]:
    """Loads cached clips (all, or those in ``clip_ids``) into memory."""
    bank = {}
    for entry in read_index(cache):
        if clip_ids is not None and entry["clip_id"] not in clip_ids:
            continue
        arrays = load_clip(cache, entry)
        bank[entry["clip_id"]] = CachedClip(entry, arrays["crops"], arrays["landmarks"], arrays["segment"])
    return bank


@dataclass(frozen=True)
class MixConfig:
    """Probability of each kind of training window (normalised over the kinds available)."""

    real: float = 0.5
    self_blend: float = 0.3
    swap: float = 0.08
    provided_fake: float = 0.12

    def probabilities(self, has_swap: bool, has_provided: bool) -> np.ndarray:
        weights = np.array(
            [self.real, self.self_blend, self.swap if has_swap else 0.0, self.provided_fake if has_provided else 0.0]
        )
        fake_total = weights[1:].sum()
        # Keep the real / fake balance when a fake kind is unavailable.
        weights[1:] *= (1.0 - self.real) / fake_total if fake_total > 0 else 0.0
        return weights / weights.sum()


def to_tensor(images: np.ndarray, mean: tuple[float, float, float], std: tuple[float, float, float]) -> torch.Tensor:
    """(T, H, W, 3) uint8 RGB -> (T, 3, H, W) normalised float tensor."""
    tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    mean_t = torch.tensor(mean).view(1, 3, 1, 1)
    std_t = torch.tensor(std).view(1, 3, 1, 1)
    return (tensor - mean_t) / std_t


def method_family(method: str) -> str:
    """The method without its variant: DeepFaceLive swaps of every DFM model form one family."""
    return method.split(" (")[0]


def group_by_method_family(bank: dict[str, CachedClip], clip_ids: list[str]) -> list[list[str]]:
    """``clip_ids`` grouped by method family, in a stable order."""
    families: dict[str, list[str]] = {}
    for clip_id in clip_ids:
        families.setdefault(method_family(bank[clip_id].entry["method"]), []).append(clip_id)
    return [families[name] for name in sorted(families)]


class SynthesisWindowDataset(Dataset):
    """Random windows: real crops, self-blends and swaps made from them, and provided fakes.

    ``real_ids`` feed real windows and synthesis; ``fake_ids`` are provided fakes. Swaps take their
    donor from a real clip of a different identity. With ``paired``, every item is a real window and
    a fake of the same crops (see :meth:`sample_pair`).
    """

    def __init__(
        self,
        bank: dict[str, CachedClip],
        real_ids: list[str],
        fake_ids: list[str],
        length: int,
        input_size: int,
        mean: tuple[float, float, float],
        std: tuple[float, float, float],
        epoch_size: int,
        seed: int = 0,
        mix: MixConfig = MixConfig(),
        augment: bool = True,
        paired: bool = False,
    ) -> None:
        if not real_ids:
            raise ValueError("synthesis needs at least one real clip")
        self.bank = bank
        self.real_ids = sorted(real_ids)
        self.fake_ids = sorted(fake_ids)
        self.fake_families = group_by_method_family(bank, self.fake_ids)
        self.length = length
        self.input_size = input_size
        self.mean, self.std = mean, std
        self.epoch_size = epoch_size
        self.seed = seed
        self.epoch = 0
        self.augment = augment
        self.paired = paired
        identities = {bank[c].entry["identity"] for c in self.real_ids}
        self.probabilities = mix.probabilities(has_swap=len(identities) > 1, has_provided=bool(self.fake_ids))

    def set_epoch(self, epoch: int) -> None:
        """Draw different windows next epoch."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.epoch_size

    def _random_window(
        self, rng: np.random.Generator, clip_ids: list[str]
    ) -> tuple[CachedClip, np.ndarray, np.ndarray]:
        clip = self.bank[clip_ids[int(rng.integers(len(clip_ids)))]]
        starts = clip.window_starts(self.length)
        crops, landmarks = clip.window(starts[int(rng.integers(len(starts)))], self.length)
        return clip, crops, landmarks

    def sample(self, index: int) -> tuple[np.ndarray, int, int]:
        """(T, S, S, 3) uint8 window before augmentation, its label and its kind index."""
        rng = np.random.default_rng([self.seed, self.epoch, index])
        kind = int(rng.choice(len(KINDS), p=self.probabilities))
        if KINDS[kind] == "provided_fake":
            return self._provided_fake(rng), 1, kind
        clip, crops, landmarks = self._random_window(rng, self.real_ids)
        if KINDS[kind] == "real":
            return crops, 0, kind
        return self._synthesize(rng, KINDS[kind], clip, crops, landmarks), 1, kind

    def sample_pair(self, index: int) -> tuple[np.ndarray, np.ndarray, int]:
        """A real window, a fake window and the fake's kind index, before augmentation.

        Synthesized fakes are made from the very crops of the real window, as in the self-blended
        images paper's batches: the pair differs only by the manipulation, so identity, camera and
        codec cannot separate them. A provided fake is paired with a random real window.
        """
        rng = np.random.default_rng([self.seed, self.epoch, index])
        fake_probabilities = self.probabilities[1:] / self.probabilities[1:].sum()
        kind = 1 + int(rng.choice(len(KINDS) - 1, p=fake_probabilities))
        clip, crops, landmarks = self._random_window(rng, self.real_ids)
        if KINDS[kind] == "provided_fake":
            return crops, self._provided_fake(rng), kind
        return crops, self._synthesize(rng, KINDS[kind], clip, crops, landmarks), kind

    def _provided_fake(self, rng: np.random.Generator) -> np.ndarray:
        # Method first, then clip: a method with few clips is seen as often as one with many.
        family = self.fake_families[int(rng.integers(len(self.fake_families)))]
        return self._random_window(rng, family)[1]

    def _synthesize(
        self, rng: np.random.Generator, kind: str, clip: CachedClip, crops: np.ndarray, landmarks: np.ndarray
    ) -> np.ndarray:
        params = sample_blend_params(rng)
        if kind == "self_blend":
            return self_blend_window(crops, landmarks, params)[0]
        identity = clip.entry["identity"]
        donors = [c for c in self.real_ids if self.bank[c].entry["identity"] != identity]
        _, donor_crops, donor_landmarks = self._random_window(rng, donors)
        return face_swap_window(crops, landmarks, donor_crops, donor_landmarks, params)[0]

    def _to_input(self, crops: np.ndarray, params: AugmentParams) -> torch.Tensor:
        window = to_tensor(augment_window(crops, params, self.input_size), self.mean, self.std)
        return window[0] if self.length == 1 else window

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | int]:
        """One window, its label and kind; ``paired``: a (2, ...) stack of a real window and its fake,
        augmented identically, with labels (0, 1) and kinds (0, fake kind)."""
        rng = np.random.default_rng([self.seed, self.epoch, index, 1])
        params = sample_augment_params(rng) if self.augment else identity_params()
        if self.paired:
            real, fake, kind = self.sample_pair(index)
            stacked = torch.stack([self._to_input(real, params), self._to_input(fake, params)])
            return stacked, torch.tensor([0.0, 1.0]), torch.tensor([0, kind])
        crops, label, kind = self.sample(index)
        return self._to_input(crops, params), torch.tensor(float(label)), kind


@dataclass(frozen=True)
class EvalWindow:
    """A fixed window of one clip (or of a synthetic fake made from one) for validation and tests."""

    clip_id: str  # scored unit: a cached clip id, or "<clip_id>#self_blend" for a synthesized one
    label: int
    kind: str
    crops: np.ndarray  # (T, S, S, 3) uint8


def evaluation_windows(
    bank: dict[str, CachedClip], clip_ids: list[str], length: int, max_windows: int, synthesize: bool, seed: int = 0
) -> list[EvalWindow]:
    """Up to ``max_windows`` evenly spread windows per clip; with ``synthesize``, also a self-blended
    copy of every real clip (one blend parameter set per clip), scored as a separate fake clip."""
    windows = []
    for number, clip_id in enumerate(sorted(clip_ids)):
        clip = bank[clip_id]
        starts = clip.window_starts(length)
        chosen = [starts[i] for i in np.linspace(0, len(starts) - 1, min(max_windows, len(starts))).round().astype(int)]
        label = int(clip.entry["label"] == "fake")
        kind = "provided_fake" if label else "real"
        params = sample_blend_params(np.random.default_rng([seed, number])) if synthesize and not label else None
        for start in dict.fromkeys(chosen):
            crops, landmarks = clip.window(start, length)
            windows.append(EvalWindow(clip_id, label, kind, crops))
            if params is not None:
                windows.append(
                    EvalWindow(f"{clip_id}#self_blend", 1, "self_blend", self_blend_window(crops, landmarks, params)[0])
                )
    return windows
