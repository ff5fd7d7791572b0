"""Identity-grouped splits: no identity on two sides, unseen methods only in test."""

from __future__ import annotations

from models.data.splits import TEST, assign_splits


def entry(clip_id: str, label: str, method: str, identity: str) -> dict:
    return {"clip_id": clip_id, "label": label, "method": method, "identity": identity}


def test_identities_never_cross_splits() -> None:
    entries = []
    for person in range(12):
        for take in range(3):
            entries.append(entry(f"r{person}_{take}", "real", "none", f"dfl{person}"))
            entries.append(entry(f"f{person}_{take}", "fake", "face swap: DeepFaceLive x", f"dfl{person}"))
    entries += [entry(f"solo{i}", "real", "none", f"solo{i}") for i in range(10)]
    entries += [entry(f"talk{i}", "fake", "talking head: SadTalker", f"talker{i % 2}") for i in range(4)]
    splits = assign_splits(entries, seed=0)
    split_of_identity: dict[str, set[str]] = {}
    for e in entries:
        split_of_identity.setdefault(e["identity"], set()).add(splits[e["clip_id"]])
    assert all(len(parts) == 1 for parts in split_of_identity.values())
    assert all(splits[f"talk{i}"] == TEST for i in range(4))
    counts = {name: sum(1 for s in splits.values() if s == name) for name in ("train", "val", "test")}
    assert counts["train"] > counts["val"] > 0
    assert assign_splits(entries, seed=0) == splits
    assert assign_splits(entries, seed=1) != splits


def test_adding_a_seen_method_keeps_earlier_assignments() -> None:
    entries = []
    for person in range(12):
        entries.append(entry(f"r{person}", "real", "none", f"dfl{person}"))
        entries.append(entry(f"f{person}", "fake", "face swap: DeepFaceLive x", f"dfl{person}"))
    entries += [entry(f"solo{i}", "real", "none", f"solo{i}") for i in range(10)]
    entries += [entry(f"talk{i}", "fake", "talking head: SadTalker", f"talker{i}") for i in range(10)]
    before = assign_splits(entries, seed=0)
    after = assign_splits(entries, seed=0, seen_methods=("face swap: DeepFaceLive", "talking head: SadTalker"))
    talkers = {f"talk{i}" for i in range(10)}
    assert {k: v for k, v in after.items() if k not in talkers} == {k: v for k, v in before.items() if k not in talkers}
    assert {after[t] for t in talkers} == {"train", "val", "test"}
