"""Splits by person and footage: no identity, footage group or repeated face on two sides; every family held out."""

from __future__ import annotations

import numpy as np

from tests.training.training_data import clip_entry
from training.data.crop_cache import ClipEntry
from training.data.splits import (
    TEST,
    TRAIN,
    VAL,
    assign_splits,
    development_splits,
    manipulation_family,
    method_name,
    split_units,
)


def entry(clip_id: str, label: str, method: str, identity: str, group: str = "", descriptor=None) -> ClipEntry:
    return clip_entry(clip_id, label, method, identity, group, descriptor=descriptor)


def corpus() -> list[dict]:
    entries = []
    for person in range(12):
        for take in range(3):
            entries.append(entry(f"r{person}_{take}", "real", "none", f"dfl{person}", f"pair{person}_{take}"))
            fake = entry(
                f"f{person}_{take}", "fake", "face swap: DeepFaceLive x", f"celeb{person}", f"pair{person}_{take}"
            )
            entries.append(fake)
    entries += [entry(f"solo{i}", "real", "none", f"solo{i}") for i in range(20)]
    entries += [entry(f"talk{i}", "fake", "talking head: SadTalker", f"talker{i}") for i in range(10)]
    entries += [entry(f"lips{i}", "fake", "lip sync: Wav2Lip (fork)", f"speaker{i}") for i in range(5)]
    return entries


def test_identities_and_footage_never_cross_splits() -> None:
    entries = corpus()
    splits = assign_splits(entries, seed=0)
    for key in ("identity", "group"):
        sides: dict[str, set[str]] = {}
        for e in entries:
            sides.setdefault(getattr(e, key), set()).add(splits[e.clip_id])
        assert all(len(parts) == 1 for parts in sides.values()), key
    # The real half of a demo and its swap share footage, so the swap's celebrity follows the performer.
    assert splits["r3_1"] == splits["f3_1"]
    assert assign_splits(entries, seed=0) == splits
    assert assign_splits(entries, seed=1) != splits


def test_every_family_with_enough_units_has_test_and_validation_clips() -> None:
    entries = corpus()
    splits = assign_splits(entries, seed=0)
    for family in ("face swap", "talking head", "lip sync", "real"):
        members = {splits[e.clip_id] for e in entries if manipulation_family(e.method) == family}
        assert {TRAIN, VAL, TEST} <= members, family


def test_real_clips_of_one_face_under_two_names_are_one_unit_but_fakes_are_not_joined_by_face() -> None:
    face = np.random.default_rng(0).normal(size=128).astype(np.float32) * 0.05
    other = face + 0.02  # within a distance of 0.4: the same person
    far = np.random.default_rng(1).normal(size=128).astype(np.float32)
    entries = [
        entry("a", "real", "none", "ObamaA", descriptor=face.tolist()),
        entry("b", "real", "none", "obama_b", descriptor=other.tolist()),
        entry("c", "real", "none", "someone", descriptor=far.tolist()),
        entry("d", "fake", "face swap: x", "donor", descriptor=face.tolist()),  # a swap showing that face
    ]
    units = split_units(entries)
    assert units["a"] == units["b"] and units["c"] != units["a"] and units["d"] != units["a"]


def test_families_and_method_names() -> None:
    assert manipulation_family("face swap: roop (inswapper_128)") == "face swap"
    assert manipulation_family("head replacement: DeepFaceLab") == "face swap"
    assert manipulation_family("talking face: PC-AVS (pose-controllable audio-visual, CVPR 2021)") == "talking head"
    assert manipulation_family("lip sync: DINet (deformation inpainting, AAAI 2023) (inferred)") == "lip sync"
    assert manipulation_family("facial reenactment: NeuralTextures (FaceForensics++)") == "reenactment"
    assert manipulation_family("fully synthesized: StyleGAN2 (FFHQ config-f), shown at 256") == "synthetic image"
    assert manipulation_family("Face2Face") == "reenactment" and manipulation_family("none") == "real"
    assert method_name('face swap: DeepFaceLive real-time (DFM model "Kim")') == "face swap: DeepFaceLive real-time"


def test_development_cuts_keep_the_test_clips_and_recut_the_rest_by_units() -> None:
    entries = corpus()
    shipped = assign_splits(entries, seed=0)
    assert development_splits(entries, 0) == shipped
    cuts = [development_splits(entries, cut) for cut in (1, 2, 3)]
    for splits in cuts:
        assert {k for k, v in splits.items() if v == TEST} == {k for k, v in shipped.items() if v == TEST}
        for key in ("identity", "group"):
            sides: dict[str, set[str]] = {}
            for e in entries:
                sides.setdefault(getattr(e, key), set()).add(splits[e.clip_id])
            assert all(len(parts) == 1 for parts in sides.values()), key
        assert {TRAIN, VAL} <= set(splits.values())
    assert cuts[0] != shipped and cuts[0] != cuts[1]  # the development clips really move between the parts
