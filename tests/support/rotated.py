"""Phone-style clips: frames stored turned a quarter counter-clockwise, with a display matrix turning them back."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from realtime.sources.demo import write_video

IDENTITY_MATRIX = struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
QUARTER_CLOCKWISE = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)  # 16.16 fixed point


def rotated_clip(folder: Path, upright_frames: list[np.ndarray], name: str = "rotated.mp4") -> Path:
    """An MP4 whose stored frames lie on their side and whose track matrix shows them ``upright_frames``."""
    stored = [np.ascontiguousarray(np.rot90(image, 1)) for image in upright_frames]
    clip = write_video(folder / f"stored-{name}", stored)
    data = bytearray(clip.read_bytes())
    matrix_at = data.index(IDENTITY_MATRIX, data.index(b"tkhd"))
    data[matrix_at : matrix_at + 36] = QUARTER_CLOCKWISE
    rotated = folder / name
    rotated.write_bytes(bytes(data))
    return rotated
