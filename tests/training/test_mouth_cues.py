"""The mouth cues on drawn faces: each cue moves with the edit it names, and the report tells a cue that reads the
edit (fakes above their own twins) from one that reads the footage (fakes apart from other reals only)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.synthetic_faces import face_crop
from tests.training.training_data import clip_entry
from training.data.crop_cache import save_clip, write_index
from training.mouth_cues import MOUTH, clip_cues, main, region_box

SIZE = 96
FRAMES = 8


def drawn_clip(seed: int, mouth_flicker: float = 0.0, mouth_blur: float = 0.0, noise: float = 3.0) -> dict:
    """A still drawn face over ``FRAMES`` frames in 2 segments, with camera noise; optionally the mouth gets
    fresh noise of ``mouth_flicker`` grey levels every frame, or is blurred by ``mouth_blur`` pixels."""
    base, points = face_crop(SIZE, seed=seed)
    x0, y0, x1, y1 = region_box(points[MOUTH], SIZE)
    rng = np.random.default_rng(seed + 1)
    canvases = []
    for _ in range(FRAMES):
        frame = base.astype(np.float32) + rng.normal(0, noise, base.shape)
        if mouth_flicker:
            frame[y0:y1, x0:x1] += rng.normal(0, mouth_flicker, (y1 - y0, x1 - x0, 3))
        if mouth_blur:
            frame[y0:y1, x0:x1] = cv2.GaussianBlur(frame, (0, 0), mouth_blur)[y0:y1, x0:x1]
        canvases.append(np.clip(frame, 0, 255).astype(np.uint8))
    return {
        "crops": np.stack(canvases),
        "canvas_side": np.full(FRAMES, SIZE * 0.8, np.float32),
        "landmarks": np.repeat(points[None], FRAMES, axis=0),
        "frame_index": np.arange(FRAMES, dtype=np.int32),
        "segment": np.repeat([0, 1], FRAMES // 2).astype(np.int32),
        "box": np.tile(np.array([0, 0, SIZE, SIZE], np.int32), (FRAMES, 1)),
    }


def cues_of(arrays: dict) -> dict[str, float]:
    return clip_cues(arrays["crops"], arrays["landmarks"], arrays["segment"])


def test_each_cue_moves_with_its_edit() -> None:
    plain = cues_of(drawn_clip(3))
    flickering = cues_of(drawn_clip(3, mouth_flicker=20.0))
    blurred = cues_of(drawn_clip(3, mouth_blur=2.0))
    assert flickering["mouth_motion"] > plain["mouth_motion"] + 0.5
    assert blurred["mouth_detail"] < plain["mouth_detail"] - 0.3
    assert blurred["mouth_sharpness"] < plain["mouth_sharpness"] - 0.3
    # A blurred mouth changes its detail, not how much it moves relative to the nose beyond the noise it lost.
    assert blurred["mouth_motion"] < plain["mouth_motion"]


def test_a_still_has_no_motion_cue() -> None:
    arrays = drawn_clip(4)
    single = clip_cues(arrays["crops"][:1], arrays["landmarks"][:1], arrays["segment"][:1])
    assert np.isnan(single["mouth_motion"])
    assert np.isfinite(single["mouth_detail"]) and np.isfinite(single["mouth_sharpness"])


@pytest.fixture()
def twin_cache(tmp_path: Path) -> Path:
    """Eight footage groups, each a real clip and a lip sync of it whose mouth changes a little more; the
    groups' people talk more or less, so the footage moves the cue between groups more than the edit within one."""
    entries = []
    for group in range(8):
        talking = 3.0 * group
        real_id, fake_id = f"real{group}", f"fake{group}"
        save_clip(tmp_path, real_id, drawn_clip(group, mouth_flicker=talking))
        save_clip(tmp_path, fake_id, drawn_clip(group, mouth_flicker=talking + 4.0))
        entries.append(clip_entry(real_id, group=f"g{group}", crops=FRAMES))
        entries.append(clip_entry(fake_id, "fake", "lip sync: drawn", group=f"g{group}", crops=FRAMES))
    write_index(tmp_path, entries)
    return tmp_path


def test_report_sets_each_fake_against_its_own_twin(twin_cache: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report" / "cues.json"
    main(["--crops", str(twin_cache), "--out", str(out)])
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert printed["videos"] == 16 and printed["reals"] == 8
    motion = printed["cues"]["mouth_motion"]
    twins = motion["against_twins"]["lip sync"]
    assert twins["pairs"] == 8
    assert twins["above_twin"] == 8, twins["differences"]
    assert twins["mean_difference"] > 0
    # The edit is in the mouth's pixels, not the nose's: the twins share every frame and its box.
    pixels = printed["edit_in_pixels"]["lip sync"]
    assert (pixels["pairs"], pixels["frames"]) == (8, 8 * FRAMES)
    assert pixels["mouth"] > 2 * pixels["nose"]
    against_reals = motion["against_reals"]["lip sync"]
    assert (against_reals["fakes"], against_reals["reals"]) == (8, 8)
    # Talking spreads the footage: against all reals the edit separates far worse than against the twins.
    assert 0.5 < against_reals["video_auc"] < 0.8
