"""Train / validation / test assignment by person and footage, never by frame or clip; manipulation families.

The unit of assignment joins every clip that shares an identity (``id=`` notes, DFM models, source
portraits), a footage group (``pair=``: a real clip and the fakes made from it) or a face: real
clips whose 128-d dlib descriptors lie closer than ``SAME_FACE_DISTANCE`` are the same person under
two names (the same speaker in two datasets, the one performer of many DeepFaceLive demos), so they
land in one split too. Fakes are joined by their names and footage only: their descriptor describes
the manipulated face, which would join a swap's target with its donor. Units are shuffled by a
seeded hash within strata (the family of their fakes, or real-only) and cut into test, validation
and train parts, so every family has held-out clips.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from training.data.crop_cache import ClipEntry, default_cache, read_index

TRAIN, VAL, TEST = "train", "val", "test"
REAL_FAMILY = "real"
VAL_FRACTION, TEST_FRACTION = 0.2, 0.3
SAME_FACE_DISTANCE = 0.4  # dlib's descriptors: the same person lies under ~0.6; stricter so chains stay short

# Coarse manipulation families, by what the method does to the face (prefix of the manifest's method).
_FAMILY_PREFIXES = (
    ("face swap", "face swap"),
    ("head replacement", "face swap"),
    ("talking head", "talking head"),
    ("talking face", "talking head"),
    ("lip sync", "lip sync"),
    ("face reenactment", "reenactment"),
    ("facial reenactment", "reenactment"),
    ("fully synthesized", "synthetic image"),
    ("face anonymization", "face inpainting"),
)
# Dataset readers' method names (FaceForensics++, Celeb-DF, DFDC).
_FAMILY_NAMES = {
    "deepfakes": "face swap",
    "faceswap": "face swap",
    "faceshifter": "face swap",
    "celeb-df face swap": "face swap",
    "dfdc": "face swap",
    "face2face": "reenactment",
    "neuraltextures": "reenactment",
}


def manipulation_family(method: str) -> str:
    """The family of a manifest method ("face swap", "talking head", "lip sync", ...); "real" for none."""
    text = method.strip().lower()
    if text == "none":
        return REAL_FAMILY
    for prefix, family in _FAMILY_PREFIXES:
        if text.startswith(prefix):
            return family
    return _FAMILY_NAMES.get(text, "other")


def method_name(method: str) -> str:
    """The method without its variant: DeepFaceLive swaps of every DFM model form one method."""
    return method.split(" (")[0]


class _Units:
    """Union-find over clip ids."""

    def __init__(self, items: list[str]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: str) -> str:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def split_units(entries: Sequence[ClipEntry], same_face_distance: float = SAME_FACE_DISTANCE) -> dict[str, str]:
    """clip_id -> unit: clips joined by a shared identity, footage group or (real clips) face descriptor."""
    ids = [entry.clip_id for entry in entries]
    units = _Units(ids)
    first_of: dict[tuple[str, str], str] = {}
    for entry in entries:
        for key in (("identity", entry.identity), ("group", entry.group)):
            units.join(first_of.setdefault(key, entry.clip_id), entry.clip_id)
    described = [entry for entry in entries if entry.descriptor and entry.label == "real"]
    if len(described) > 1:
        vectors = np.array([entry.descriptor for entry in described], dtype=np.float32)
        squared = (vectors**2).sum(axis=1)
        distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * vectors @ vectors.T, 0.0))
        for i, j in zip(*np.nonzero(np.triu(distances < same_face_distance, k=1)), strict=True):
            units.join(described[i].clip_id, described[j].clip_id)
    return {clip_id: units.find(clip_id) for clip_id in ids}


def _rank(seed: int, unit: str) -> str:
    return hashlib.sha1(f"{seed}:{unit}".encode()).hexdigest()


def assign_splits(
    entries: Sequence[ClipEntry],
    seed: int = 0,
    val_fraction: float = VAL_FRACTION,
    test_fraction: float = TEST_FRACTION,
) -> dict[str, str]:
    """clip_id -> split. A unit's stratum is the rarest family among its fakes (real-only units form one),
    so every family, however small, has units in every split where it has enough of them."""
    unit_of = split_units(entries)
    family_size: dict[str, int] = defaultdict(int)
    for entry in entries:
        family_size[manipulation_family(entry.method)] += 1
    stratum_of: dict[str, str] = {}
    for entry in entries:
        family = manipulation_family(entry.method)
        unit = unit_of[entry.clip_id]
        current = stratum_of.get(unit, REAL_FAMILY)
        if family != REAL_FAMILY and (current == REAL_FAMILY or family_size[family] < family_size[current]):
            stratum_of[unit] = family
        else:
            stratum_of.setdefault(unit, current)
    strata: dict[str, list[str]] = defaultdict(list)
    for unit, stratum in stratum_of.items():
        strata[stratum].append(unit)
    split_of_unit = {}
    for stratum in sorted(strata):
        ordered = sorted(strata[stratum], key=lambda unit: _rank(seed, unit))
        test_count = round(len(ordered) * test_fraction)
        val_count = round(len(ordered) * val_fraction)
        for position, unit in enumerate(ordered):
            if position < test_count:
                split_of_unit[unit] = TEST
            else:
                split_of_unit[unit] = VAL if position < test_count + val_count else TRAIN
    return {clip_id: split_of_unit[unit] for clip_id, unit in unit_of.items()}


def development_splits(entries: Sequence[ClipEntry], cut: int) -> dict[str, str]:
    """clip_id -> split with the test part of split seed 0 (the project's test split) kept and the other clips cut
    anew into training and validation parts in the same proportions, by units and strata as above. Cut 0 is the
    project's cut itself. Choices made over several such cuts never see a test clip."""
    shipped = assign_splits(entries, seed=0)
    if cut == 0:
        return shipped
    development = [entry for entry in entries if shipped[entry.clip_id] != TEST]
    # A unit lies wholly in the test part or wholly outside it, so the development clips form whole units.
    recut = assign_splits(development, seed=cut, val_fraction=VAL_FRACTION / (1 - TEST_FRACTION), test_fraction=0.0)
    return {clip_id: recut.get(clip_id, TEST) for clip_id in shipped}


def main(argv: list[str] | None = None) -> None:
    """Prints the clip ids of one split (e.g. the training reals the autoencoder bank learns from)."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--cache", type=Path, default=default_cache(), help="crop cache from training.data.prepare")
    parser.add_argument("--split", choices=[TRAIN, VAL, TEST], default=TRAIN)
    parser.add_argument("--label", choices=["real", "fake", "any"], default="real")
    parser.add_argument("--seed", type=int, default=0, help="split seed (training.train --split-seed)")
    args = parser.parse_args(argv)
    entries = read_index(args.cache.expanduser())
    splits = assign_splits(entries, seed=args.seed)
    for entry in entries:
        if splits[entry.clip_id] == args.split and args.label in ("any", entry.label):
            print(entry.clip_id)


if __name__ == "__main__":
    main()
