"""Contact sheets from a tiny crop cache: the PNG grid's size, family coverage, determinism."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.synthetic_faces import face_crop
from tests.training.training_data import clip_entry
from training.data.contact_sheet import HEADER, main, real_windows, segment_starts, shown_frames
from training.data.crop_cache import clip_arrays_path, write_index
from training.data.families import FAMILIES

SIZE = 64


def write_cache(root: Path) -> Path:
    """Three real clips (two segments each) and one fake clip, in the crop cache format."""
    clip_arrays_path(root, "").parent.mkdir(parents=True)
    entries = []
    for index, (clip_id, label) in enumerate([("a", "real"), ("b", "real"), ("c", "real"), ("f", "fake")]):
        pairs = [face_crop(SIZE, seed=index, shift=(t % 5, -(t % 3))) for t in range(10)]
        np.savez(
            clip_arrays_path(root, clip_id),
            crops=np.stack([p[0] for p in pairs]),
            landmarks=np.stack([p[1] for p in pairs]).astype(np.float32),
            segment=np.array([0] * 6 + [1] * 4, dtype=np.int32),
        )
        method = "none" if label == "real" else "test fake"
        entries.append(clip_entry(clip_id, label, method, crops=len(pairs)))
    write_index(root, entries)
    return root


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return write_cache(tmp_path / "cache")


def read_png(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, path
    return image


def test_one_family_sheet_has_a_row_per_kind_and_a_column_per_frame(cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "sheet.png"
    main(["--family", "mouth_blend", "--cache", str(cache), "--out", str(out), "--windows", "2", "--frames", "3"])
    assert read_png(out).shape == (HEADER + 2 * 3 * SIZE, 3 * SIZE, 3)
    degraded = tmp_path / "degraded.png"
    args = ["--family", "one_shot", "--cache", str(cache), "--out", str(degraded), "--windows", "3", "--frames", "2"]
    main([*args, "--length", "5", "--degrade", "--diff"])
    assert read_png(degraded).shape == (HEADER + 3 * 4 * SIZE, 2 * SIZE, 3)


def test_all_families_write_one_png_each_and_repeat_exactly(cache: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "sheets"
    args = ["--family", "all", "--cache", str(cache), "--out-dir", str(out_dir), "--windows", "2", "--frames", "2"]
    main(args)
    plain = {name for name, family in FAMILIES.items() if not family.needs_autoencoders}
    assert {path.stem for path in out_dir.glob("*.png")} == plain
    first = read_png(out_dir / "swap.png")
    main(args)
    np.testing.assert_array_equal(read_png(out_dir / "swap.png"), first)
    mask_row = first[HEADER + 2 * SIZE + SIZE // 3 : HEADER + 3 * SIZE].astype(int)  # below the labels
    assert mask_row.max() > 200
    assert np.array_equal(mask_row[..., 0], mask_row[..., 2]), "masks are drawn grey"


def test_windows_come_from_different_real_clips(cache: Path) -> None:
    windows = real_windows(cache, 5, 4, np.random.default_rng(0))
    assert sorted(w.clip_id for w in windows) == ["a", "b", "c"]
    for window in windows:
        assert window.crops.shape == (4, SIZE, SIZE, 3) and window.landmarks.shape == (4, 68, 2)
        assert window.start in (0, 1, 2, 6)


def test_windows_stay_inside_one_segment() -> None:
    segment = np.array([0, 0, 0, 1, 1, 1, 1, 2])
    assert segment_starts(segment, 3) == [0, 3, 4]
    assert segment_starts(segment, 5) == []
    np.testing.assert_array_equal(shown_frames(16, 4), [0, 5, 10, 15])
    np.testing.assert_array_equal(shown_frames(2, 4), [0, 1])


def test_autoencoder_family_needs_a_bank(cache: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--family", "rerender_whole", "--cache", str(cache), "--out", str(tmp_path / "x.png")])
