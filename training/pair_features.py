"""Aligned pairs in the CLIP feature cache: every fake beside the real it was made from, both through one
random degradation chain before the tower, so codec, size and sharpness carry no label.

For each real clip of the crop cache, ``rounds`` windows of 4 consecutive crops (one segment each, in
turn): a synthesis family, rotating through the families clip by clip, makes a fake of the window
(``training.data.families``: blends, swaps, mouth and eye blends, re-rendered faces, the temporal
families), and the real window and its fake go through the same ``training.data.degrade`` history.
Each provided fake gets the same per round beside a window of its real twin (the same ``pair=``
group) where the data has one. Stills are windows of one.

A family outside the rotation (``Family.rotates`` False: one added after the rotation's pairs were
cached, so that adding it changes none of them) gets a pair set of its own, one window per real clip
and round, under ``<root>/pairs.<family>/``:

    python -m training.pair_features --rounds 3
    python -m training.pair_features --family mouth_rerender --rounds 1

Entries: ``<root>/pairs/<clip_id>.r<round>.npz`` with ``real`` and ``fake`` (T, 48, 768) float16
(``real`` empty for a provided fake without a twin), ``family``, ``degraded`` (whether any step of
the chain ran) and the crop positions. Resumable; seeded by clip and round.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.clean_features import model_crops
from training.clip_embedder import ClipEmbedder
from training.data.crop_cache import default_cache, load_clip, read_index
from training.data.datasets import CachedClip, load_autoencoders
from training.data.degrade import DegradeParams, degrade_window, sample_degradation
from training.data.families import FAMILIES, SynthesisContext
from training.feature_cache import ALL_SUMMARIES, default_feature_root

WINDOW = 4
ROUNDS = 3
PAIRS = "pairs"
PROVIDED = "provided"
# Families outside the rotation, each with a pair set of its own, and the rounds each set holds.
TARGETED = tuple(name for name, family in FAMILIES.items() if not family.rotates)
TARGETED_ROUNDS = 1


@dataclass(frozen=True)
class PairEntry:
    """One cached pair: the real window's and the fake window's summaries, (T, 48, 768) float16 each."""

    clip_id: str  # the clip the pair was made from (the real one; the provided fake for provided pairs)
    round: int
    family: str  # a synthesis family, or "provided"
    real: np.ndarray  # (T, 48, 768); shape (0, 48, 768) for a provided fake without a real twin
    fake: np.ndarray
    degraded: bool
    twin: str = ""  # the real twin's clip id, for provided pairs


def chain_runs(params: DegradeParams) -> bool:
    """Whether any step of a degradation history does something (the noise seed alone does nothing)."""
    return (
        params.blur_sigma > 0
        or params.noise_sigma > 0
        or params.resize_factor < 1.0
        or params.crf is not None
        or params.jpeg_quality is not None
    )


def pair_set(targeted: str = "") -> str:
    """The folder of a pair set: the rotation's, or ``pairs.<family>`` for a family outside it."""
    return f"{PAIRS}.{targeted}" if targeted else PAIRS


def pair_path(root: Path, clip_id: str, round_number: int, targeted: str = "") -> Path:
    return root / pair_set(targeted) / f"{clip_id}.r{round_number}.npz"


def write_pair(root: Path, entry: PairEntry, targeted: str = "") -> None:
    path = pair_path(root, entry.clip_id, entry.round, targeted)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as handle:
        np.savez(
            handle,
            real=entry.real.astype(np.float16),
            fake=entry.fake.astype(np.float16),
            family=entry.family,
            degraded=entry.degraded,
            twin=entry.twin,
        )
    os.replace(handle.name, path)


def read_pair(root: Path, clip_id: str, round_number: int, targeted: str = "") -> PairEntry:
    with np.load(pair_path(root, clip_id, round_number, targeted)) as data:
        return PairEntry(
            clip_id, round_number, str(data["family"]), data["real"], data["fake"], bool(data["degraded"]),
            str(data["twin"]),
        )  # fmt: skip


def rng_for(seed: int, clip_id: str, round_number: int, targeted: str = "") -> np.random.Generator:
    """The pair's generator: the rotation's keys are unchanged, a targeted set's draws are its own."""
    name = f"{clip_id}:{round_number}" + (f":{targeted}" if targeted else "")
    key = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16)
    return np.random.default_rng([seed, key])


def family_for(clip_id: str, round_number: int, families: list[str]) -> str:
    """Families in turn, clip by clip and round by round, so each gets about the same share of every split."""
    offset = int(hashlib.sha1(clip_id.encode()).hexdigest()[:8], 16)
    return families[(offset + round_number) % len(families)]


def window_of(
    clip: CachedClip, round_number: int, length: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Canvases, sides, landmarks and positions of the round's window: segments in turn, from their start."""
    segments = np.unique(clip.segment)
    segment = segments[round_number % len(segments)]
    start = int(np.flatnonzero(clip.segment == segment)[0])
    positions = clip.window_indices(start, min(length, int((clip.segment == segment).sum())))
    return clip.crops[positions], clip.canvas_side[positions], clip.landmarks[positions], positions


def cached_clip(crop_cache: Path, entry: dict) -> CachedClip:
    arrays = load_clip(crop_cache, entry)
    return CachedClip(entry, arrays["crops"], arrays["canvas_side"], arrays["landmarks"], arrays["segment"])


class PairBuilder:
    """Makes and embeds the pairs of one crop cache."""

    def __init__(
        self, crop_cache: Path, root: Path, embedder: ClipEmbedder, autoencoders: object | None, seed: int = 0
    ) -> None:
        self.crop_cache = crop_cache
        self.root = root
        self.embedder = embedder
        self.autoencoders = autoencoders
        self.seed = seed
        self.entries = read_index(crop_cache)
        self.by_id = {entry["clip_id"]: entry for entry in self.entries}
        self.families = [
            name
            for name, family in FAMILIES.items()
            if family.rotates and (autoencoders is not None or not family.needs_autoencoders)
        ]

    def _embed(self, canvases: np.ndarray, sides: np.ndarray) -> np.ndarray:
        return self.embedder(model_crops(canvases, sides, self.embedder.input_size))

    def _donor(self, clip: CachedClip, rng: np.random.Generator, split_of: dict[str, str], length: int):
        """A real clip of another identity in the same split, as a swap donor."""
        split = split_of[clip.clip_id]
        others = [
            e["clip_id"]
            for e in self.entries
            if e["label"] == "real" and e["identity"] != clip.entry["identity"] and split_of[e["clip_id"]] == split
        ]
        donor = cached_clip(self.crop_cache, self.by_id[others[int(rng.integers(len(others)))]])
        canvases, _, landmarks, _ = window_of(donor, int(rng.integers(1 << 16)), length)
        positions = np.arange(length) % len(canvases)
        return canvases[positions], landmarks[positions]

    def synthetic_pair(
        self, clip: CachedClip, round_number: int, split_of: dict[str, str], targeted: str = ""
    ) -> PairEntry:
        """The round's pair of a real clip: the rotation's family, or the ``targeted`` one."""
        rng = rng_for(self.seed, clip.clip_id, round_number, targeted)
        family = targeted or family_for(clip.clip_id, round_number, self.families)
        canvases, sides, landmarks, _ = window_of(clip, round_number, WINDOW)
        donor = self._donor(clip, rng, split_of, len(canvases)) if FAMILIES[family].needs_donor else None
        context = SynthesisContext(donor=donor, autoencoders=self.autoencoders)
        fake, _ = FAMILIES[family].make(canvases, landmarks, rng, context)
        degradation = sample_degradation(rng)
        real_degraded, fake_degraded = (degrade_window(w, degradation) for w in (canvases, fake))
        both = self._embed(np.concatenate([real_degraded, fake_degraded]), np.concatenate([sides, sides]))
        degraded = chain_runs(degradation)
        return PairEntry(clip.clip_id, round_number, family, both[: len(sides)], both[len(sides) :], degraded)

    def provided_pair(self, clip: CachedClip, round_number: int, twins: list[str]) -> PairEntry:
        rng = rng_for(self.seed, clip.clip_id, round_number)
        canvases, sides, _, _ = window_of(clip, round_number, WINDOW)
        degradation = sample_degradation(rng)
        fake = self._embed(degrade_window(canvases, degradation), sides)
        degraded = chain_runs(degradation)
        if not twins:
            return PairEntry(clip.clip_id, round_number, PROVIDED, fake[:0], fake, degraded)
        twin = cached_clip(self.crop_cache, self.by_id[twins[round_number % len(twins)]])
        real_canvases, real_sides, _, _ = window_of(twin, round_number, WINDOW)
        real = self._embed(degrade_window(real_canvases, degradation), real_sides)
        return PairEntry(clip.clip_id, round_number, PROVIDED, real, fake, degraded, twin.clip_id)

    def build(self, rounds: int, split_of: dict[str, str], limit: int = 0, targeted: str = "") -> dict:
        """Every missing pair of ``rounds`` rounds: of the rotation, or of the ``targeted`` family's own set
        (real clips only)."""
        reals_of_group: dict[str, list[str]] = {}
        for entry in self.entries:
            if entry["label"] == "real":
                reals_of_group.setdefault(entry["group"], []).append(entry["clip_id"])
        made = reused = 0
        started = time.monotonic()
        entries = [e for e in self.entries if e["label"] == "real"] if targeted else self.entries
        for number, entry in enumerate(entries[:limit] if limit else entries):
            todo = [r for r in range(rounds) if not pair_path(self.root, entry["clip_id"], r, targeted).is_file()]
            reused += rounds - len(todo)
            if not todo:
                continue
            clip = cached_clip(self.crop_cache, entry)
            for round_number in todo:
                if entry["label"] == "real":
                    pair = self.synthetic_pair(clip, round_number, split_of, targeted)
                else:
                    pair = self.provided_pair(clip, round_number, sorted(reals_of_group.get(entry["group"], [])))
                write_pair(self.root, pair, targeted)
                made += 1
            if made and number % 25 == 0:
                rate = (time.monotonic() - started) / made
                print(f"{number + 1}/{len(entries)} clips, {rate:.1f} s per pair", file=sys.stderr, flush=True)
        return {"pairs_made": made, "pairs_reused": reused, "elapsed_s": round(time.monotonic() - started)}


def main(argv: list[str] | None = None) -> None:
    from training.data.splits import assign_splits

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache(), help="crop cache (training.data.prepare)")
    parser.add_argument("--out", type=Path, default=None, help="feature cache root (default: in the user cache)")
    parser.add_argument("--autoencoders", type=Path, help="re-rendering bank (default: <crops>/autoencoders)")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips (smoke runs)")
    parser.add_argument(
        "--family", default="", choices=["", *TARGETED], help="build this family's own pair set (outside the rotation)"
    )
    args = parser.parse_args(argv)
    crops = args.crops.expanduser()
    autoencoders = load_autoencoders(args.autoencoders or crops / "autoencoders")
    if autoencoders is None and args.family and FAMILIES[args.family].needs_autoencoders:
        raise SystemExit(f"error: the {args.family} family needs the autoencoder bank (training.data.autoencoders)")
    if autoencoders is None:
        print("warning: no autoencoder bank: the re-rendered families are left out", file=sys.stderr)
    builder = PairBuilder(
        crops, args.out or default_feature_root(224), ClipEmbedder(ALL_SUMMARIES, 224, args.device, args.threads),
        autoencoders, args.seed,
    )  # fmt: skip
    split_of = assign_splits(read_index(crops), seed=args.split_seed)
    families = [args.family] if args.family else builder.families
    print(json.dumps({"families": families, **builder.build(args.rounds, split_of, args.limit, args.family)}))


if __name__ == "__main__":
    main()
