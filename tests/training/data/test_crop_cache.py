"""The crop cache's format: typed entries that write back byte for byte, settings, clip files; the real cache reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from common.paths import cache_dir
from tests.training.training_data import FRAMES, clip_entry, drawn_arrays
from training.data.crop_cache import (
    INDEX_NAME,
    ClipEntry,
    PrepareConfig,
    clip_arrays_path,
    default_cache,
    load_clip,
    read_clip_entries,
    read_config,
    read_index,
    remove_clip_entries,
    save_clip,
    write_clip_entry,
    write_config,
    write_index,
)
from training.data.readers import MediaRecord

USER_CROPS = Path.home() / ".cache" / "deepfake-analyzer" / "crops"
# A line as the extractor wrote it before entries were typed (the first line of a real index, descriptor cut).
LEGACY_LINE = (
    '{"path": "/data/real/a.mp4", "label": "real", "kind": "video", "method": "none", "source": "KwaiVGI/LivePortrait",'
    ' "license": "MIT", "group": "a", "identity": "a", "clip_id": "a_3c0057e9", "crops": 80, "segments": 5,'
    ' "face_px": 258, "descriptor": [-0.13526, 0.0908, 0.03642, 1e-05, 0.0]}'
)


def test_an_entry_reads_by_name_and_writes_back_the_same_line() -> None:
    entry = ClipEntry.from_json(LEGACY_LINE)
    assert entry.clip_id == "a_3c0057e9" and entry.crops == 80 and entry.face_px == 258 and not entry.is_fake
    assert entry.descriptor == (-0.13526, 0.0908, 0.03642, 1e-05, 0.0)
    assert entry["source"] == "KwaiVGI/LivePortrait" and entry["descriptor"] == entry.descriptor
    with pytest.raises(KeyError):
        entry["to_json"]
    assert entry.to_json() == LEGACY_LINE
    assert hash(entry) == hash(ClipEntry.from_json(LEGACY_LINE))  # frozen, descriptor a tuple


def test_an_entry_with_unknown_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="colour"):
        ClipEntry.from_json(LEGACY_LINE[:-1] + ', "colour": 1}')


def test_an_entry_of_a_record_carries_the_record_and_what_was_found() -> None:
    record = MediaRecord(Path("/data/fake/b.mp4"), "fake", "video", "face swap: x", "repo", "MIT", "g", "p")
    entry = ClipEntry.of_record(record, clip_id="b_1", crops=3, segments=1, face_px=90, descriptor=[0.5, -0.25])
    assert (
        entry.path == "/data/fake/b.mp4" and entry.is_fake and entry.group == "g" and entry.descriptor == (0.5, -0.25)
    )
    assert [f.name for f in dataclasses.fields(MediaRecord)] == [f.name for f in dataclasses.fields(ClipEntry)][:8]


def test_index_config_and_clips_round_trip(tmp_path: Path) -> None:
    entries = [clip_entry("r", descriptor=[0.1, 0.2]), clip_entry("f", "fake", "lip sync: x")]
    write_index(tmp_path, entries)
    assert read_index(tmp_path) == entries
    assert (tmp_path / INDEX_NAME).read_text() == "".join(entry.to_json() + "\n" for entry in entries)
    config = PrepareConfig(canvas_size=64, input_size=32)
    write_config(tmp_path, config)
    assert read_config(tmp_path) == config
    arrays = drawn_arrays(0)
    save_clip(tmp_path, "r", arrays)
    loaded = load_clip(tmp_path, entries[0])
    assert sorted(loaded) == sorted(arrays) and len(loaded["crops"]) == FRAMES
    np.testing.assert_array_equal(loaded["landmarks"], arrays["landmarks"])
    assert clip_arrays_path(tmp_path, "r").is_file()
    with pytest.raises(ValueError, match="box"):
        save_clip(tmp_path, "f", {k: v for k, v in arrays.items() if k != "box"})


def test_the_default_cache_lies_in_the_analyzers_cache_folder() -> None:
    assert default_cache() == cache_dir() / "crops"


def test_entries_beside_clips_are_kept_or_removed_by_id(tmp_path: Path) -> None:
    save_clip(tmp_path, "a", drawn_arrays(1))
    for clip_id in ("a", "b"):
        write_clip_entry(tmp_path, clip_entry(clip_id))
    assert [e.clip_id for e in read_clip_entries(tmp_path)] == ["a", "b"]
    remove_clip_entries(tmp_path, keep={"a"})
    assert [e.clip_id for e in read_clip_entries(tmp_path)] == ["a"]


def test_the_real_cache_reads_and_its_index_writes_back_byte_for_byte() -> None:
    """The cache the extractor made before entries were typed (read only, never written). The suite points
    the analyzer's cache folder elsewhere, so this is the Makefile's default path, by hand."""
    cache = USER_CROPS
    if not (cache / INDEX_NAME).is_file():
        pytest.skip(f"no crop cache at {cache}")
    lines = (cache / INDEX_NAME).read_text().splitlines()
    entries = read_index(cache)
    assert len(entries) == len(lines) > 0
    assert [entry.to_json() for entry in entries] == lines
    assert isinstance(read_config(cache), PrepareConfig)
    first = load_clip(cache, entries[0])
    assert len(first["crops"]) == entries[0].crops
