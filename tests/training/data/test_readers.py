"""Dataset readers on tiny directory trees built in the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.data.readers import (
    read_celebdf,
    read_csv_listing,
    read_dfdc,
    read_faceforensics,
    read_label_folders,
    read_manifest,
)


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0")
    return path


def test_faceforensics_groups_fakes_with_their_target(tmp_path: Path) -> None:
    touch(tmp_path / "original_sequences/youtube/c23/videos/000.mp4")
    touch(tmp_path / "original_sequences/youtube/c23/videos/003.mp4")
    touch(tmp_path / "manipulated_sequences/Deepfakes/c23/videos/000_003.mp4")
    touch(tmp_path / "manipulated_sequences/FaceSwap/c23/videos/003_000.mp4")
    touch(tmp_path / "manipulated_sequences/FaceSwap/c40/videos/000_003.mp4")  # other compression: ignored
    records = read_faceforensics(tmp_path)
    assert len(records) == 4
    by_name = {(r.method, r.path.stem): r for r in records}
    assert by_name[("Deepfakes", "000_003")].group == by_name[("none", "000")].group
    assert by_name[("FaceSwap", "003_000")].group == by_name[("none", "003")].group
    assert sum(r.is_fake for r in records) == 2


def test_celebdf_reads_test_list_and_groups(tmp_path: Path) -> None:
    touch(tmp_path / "Celeb-real/id0_0000.mp4")
    touch(tmp_path / "YouTube-real/00001.mp4")
    touch(tmp_path / "Celeb-synthesis/id0_id1_0000.mp4")
    listing = "1 YouTube-real/00001.mp4\n0 Celeb-synthesis/id0_id1_0000.mp4\n"
    (tmp_path / "List_of_testing_videos.txt").write_text(listing)
    records = {r.path.name: r for r in read_celebdf(tmp_path)}
    assert records["id0_id1_0000.mp4"].label == "fake"
    assert records["id0_id1_0000.mp4"].group == records["id0_0000.mp4"].group
    assert records["00001.mp4"].source.endswith("/test")
    assert not records["id0_0000.mp4"].source.endswith("/test")


def test_dfdc_metadata(tmp_path: Path) -> None:
    folder = tmp_path / "dfdc_train_part_0"
    touch(folder / "a.mp4")
    touch(folder / "b.mp4")
    metadata = {
        "a.mp4": {"label": "REAL"},
        "b.mp4": {"label": "FAKE", "original": "a.mp4"},
        "missing.mp4": {"label": "FAKE", "original": "a.mp4"},
    }
    (folder / "metadata.json").write_text(json.dumps(metadata))
    records = {r.path.name: r for r in read_dfdc(tmp_path)}
    assert set(records) == {"a.mp4", "b.mp4"}
    assert records["b.mp4"].is_fake and not records["a.mp4"].is_fake
    assert records["a.mp4"].group == records["b.mp4"].group


def test_csv_listing_and_label_folders(tmp_path: Path) -> None:
    touch(tmp_path / "clips/x.mp4")
    touch(tmp_path / "clips/y.png")
    (tmp_path / "list.csv").write_text("path,label,method\nclips/x.mp4,1,faceswap\nclips/y.png,real,\n")
    records = read_csv_listing(tmp_path / "list.csv")
    assert [(r.path.name, r.label, r.kind, r.method) for r in records] == [
        ("x.mp4", "fake", "video", "faceswap"),
        ("y.png", "real", "image", "none"),
    ]
    (tmp_path / "bad.csv").write_text("path,label\nclips/x.mp4,maybe\n")
    with pytest.raises(ValueError):
        read_csv_listing(tmp_path / "bad.csv")
    touch(tmp_path / "tree/real/a/one.mp4")
    touch(tmp_path / "tree/fake/two.jpg")
    touch(tmp_path / "tree/fake/notes.txt")
    records = read_label_folders(tmp_path / "tree")
    assert [(r.path.name, r.label) for r in records] == [("one.mp4", "real"), ("two.jpg", "fake")]


def test_manifest_pairs_and_identities(tmp_path: Path) -> None:
    header = "file,label,kind,method,source_repo,commit,source_path,license,bytes,width,height,frames,fps,notes\n"
    rows = [
        "real/iperov__DeepFaceLive__Kim_Jarrey_0_left.mp4,real,video,none,iperov/DeepFaceLive,c,p,GPL,1,1,1,1,25,"
        '"conf=high; pair=dfl_Kim_Jarrey_0; derived"',
        'fake/iperov__DeepFaceLive__Kim_Jarrey_0_right.mp4,fake,video,"face swap: DeepFaceLive real-time '
        '(DFM model ""Kim_Jarrey"")",iperov/DeepFaceLive,c,p,GPL,1,1,1,1,25,"pair=dfl_Kim_Jarrey_0"',
        "fake/OpenTalker__SadTalker__art_0_japanese.mp4,fake,video,talking head,OpenTalker/SadTalker,c,p,Apache,1,1,"
        "1,1,25,conf=high",
    ]
    (tmp_path / "manifest.csv").write_text(header + "\n".join(rows) + "\n")
    left, right, talker = read_manifest(tmp_path)
    assert left.group == right.group == "dfl_Kim_Jarrey_0"
    assert left.identity == right.identity == "Kim_Jarrey"
    assert left.method == "none" and right.is_fake
    assert talker.identity == "sadtalker_art_0"
