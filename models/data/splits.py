"""Train / validation / test assignment by identity, never by frame or clip.

Units of assignment are identities (DeepFaceLive DFM models, people of single real clips), so a
real clip and the swaps made from it, and all clips of one identity, land in one split. Fakes of
methods not listed in ``seen_methods`` are test-only: they measure generalisation to methods the
model never trained or validated on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

TRAIN, VAL, TEST = "train", "val", "test"
SEEN_METHOD_PREFIXES = ("face swap: DeepFaceLive",)


def is_seen_method(method: str, seen_methods: Iterable[str] = SEEN_METHOD_PREFIXES) -> bool:
    """Whether fakes of ``method`` may be trained on (real media count as seen)."""
    return method == "none" or any(method.startswith(prefix) for prefix in seen_methods)


def _rank(seed: int, unit: str) -> str:
    return hashlib.sha1(f"{seed}:{unit}".encode()).hexdigest()


def seen_method_family(method: str, seen_methods: Iterable[str] = SEEN_METHOD_PREFIXES) -> int | None:
    """Index of the first seen-method prefix ``method`` starts with (None: real or unseen)."""
    for index, prefix in enumerate(seen_methods):
        if method.startswith(prefix):
            return index
    return None


def assign_splits(
    entries: list[dict],
    seed: int = 0,
    val_fraction: float = 0.2,
    test_fraction: float = 0.3,
    seen_methods: Iterable[str] = SEEN_METHOD_PREFIXES,
) -> dict[str, str]:
    """clip_id -> split. Identities are shuffled by a seeded hash within strata and cut into test,
    validation and train parts. Strata: identities with fakes of each seen-method prefix (one stratum per
    prefix, in order, an identity going to its first), then real-only identities. One stratum per prefix
    keeps the assignment of earlier strata unchanged when a method is added to ``seen_methods``.
    """
    seen_methods = tuple(seen_methods)
    unseen = {e["identity"] for e in entries if not is_seen_method(e["method"], seen_methods)}
    family_of_identity: dict[str, int] = {}
    for entry in entries:
        family = seen_method_family(entry["method"], seen_methods) if entry["label"] == "fake" else None
        if family is not None and entry["identity"] not in unseen:
            family_of_identity[entry["identity"]] = min(family, family_of_identity.get(entry["identity"], family))
    strata = [{i for i, f in family_of_identity.items() if f == index} for index in range(len(seen_methods))]
    real_only = {e["identity"] for e in entries} - set(family_of_identity) - unseen
    split_of_identity = {identity: TEST for identity in unseen}
    for stratum in (*strata, real_only):
        ordered = sorted(stratum, key=lambda unit: _rank(seed, unit))
        test_count = round(len(ordered) * test_fraction)
        val_count = round(len(ordered) * val_fraction)
        for position, unit in enumerate(ordered):
            if position < test_count:
                split_of_identity[unit] = TEST
            else:
                split_of_identity[unit] = VAL if position < test_count + val_count else TRAIN
    return {e["clip_id"]: split_of_identity[e["identity"]] for e in entries}
