"""A tiny crop cache of drawn faces in the project's format, for the training and evaluation tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.support.synthetic_faces import face_crop
from training.data.crop_cache import ClipEntry, PrepareConfig, save_clip, write_config, write_index

CANVAS = 64
INPUT = 32
FRAMES = 8


def clip_entry(
    clip_id: str,
    label: str = "real",
    method: str = "none",
    identity: str = "",
    group: str = "",
    source: str = "test",
    descriptor: list[float] | None = None,
    crops: int = FRAMES,
) -> ClipEntry:
    """A cache entry of a made-up clip (identity and group default to the clip's own)."""
    return ClipEntry(
        path=f"{clip_id}.mp4",
        label=label,
        kind="video",
        method=method,
        source=source,
        license="test",
        group=group or clip_id,
        identity=identity or clip_id,
        clip_id=clip_id,
        crops=crops,
        segments=2,
        face_px=CANVAS,
        descriptor=descriptor,
    )


def drawn_arrays(seed: int, fake: bool = False, frames: int = FRAMES) -> dict[str, np.ndarray]:
    """Canvases of a drawn face drifting a little; a fake one has a blurred, brightened face region."""
    canvases, landmarks = [], []
    for i in range(frames):
        canvas, points = face_crop(CANVAS, seed=seed * 100 + i, shift=(i % 3, -(i % 2)))
        if fake:
            hull = cv2.convexHull(points.astype(np.int32))
            inside = np.zeros(canvas.shape[:2], np.uint8)
            cv2.fillConvexPoly(inside, hull, 1)
            smooth = np.clip(cv2.GaussianBlur(canvas, (0, 0), 2.0).astype(np.int16) + 25, 0, 255).astype(np.uint8)
            canvas = np.where(inside[..., None] > 0, smooth, canvas)
        canvases.append(canvas)
        landmarks.append(points)
    return {
        "crops": np.stack(canvases),
        "canvas_side": np.full(frames, CANVAS * 0.8, np.float32),
        "landmarks": np.stack(landmarks),
        "frame_index": np.arange(frames, dtype=np.int32),
        "segment": np.repeat([0, 1], frames // 2).astype(np.int32),
        "box": np.tile(np.array([8, 8, 56, 56], np.int32), (frames, 1)),
    }


def write_drawn_cache(cache: Path, reals: int = 10, fakes: int = 6) -> Path:
    """``reals`` real clips of one identity each and ``fakes`` provided fakes (lip sync, face swap)."""
    entries = []
    for number in range(reals + fakes):
        fake = number >= reals
        method = ("lip sync: drawn" if number % 2 else "face swap: drawn") if fake else "none"
        clip_id = f"clip{number}"
        save_clip(cache, clip_id, drawn_arrays(number, fake))
        label = "fake" if fake else "real"
        entries.append(clip_entry(clip_id, label, method, identity=f"person{number}", source=f"repo{number % 3}"))
    write_index(cache, entries)
    write_config(cache, PrepareConfig(canvas_size=CANVAS, input_size=INPUT, segment_length=FRAMES // 2))
    return cache
