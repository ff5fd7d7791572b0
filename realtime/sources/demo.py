"""The built-in demo clip: a real face (NASA's public-domain astronaut portrait shipped with
scikit-image) moving slowly across the frame, encoded once to H.264 and cached."""

from __future__ import annotations

import itertools
import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import av
import cv2
import numpy as np

from common.paths import cache_dir


def portrait() -> np.ndarray:
    """Head and shoulders of the astronaut portrait (220x220 RGB, face ~90 px), used by the demo and tests."""
    from skimage import data

    return data.astronaut()[30:250, 110:330]


def render_face_frames(
    count: int, width: int = 640, height: int = 360, face_scale: float = 0.8, phase: float = 0.0
) -> list[np.ndarray]:
    """Frames of the portrait gliding and zooming gently over a grey background (RGB)."""
    face = portrait()
    frames = []
    for i in range(count):
        t = i / max(count - 1, 1)
        scale = face_scale * (1.0 + 0.08 * math.sin(2 * math.pi * t + phase))
        side = int(min(width, height) * scale)
        sprite = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        canvas = np.full((height, width, 3), 90, dtype=np.uint8)
        x = int((width - side) * (0.5 + 0.35 * math.sin(2 * math.pi * t * 0.5 + phase)))
        y = (height - side) // 2
        canvas[y : y + side, x : x + side] = sprite
        frames.append(canvas)
    return frames


def write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: int = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    faststart: bool = True,
) -> Path:
    """Encodes RGB frames (a list, or an iterator that yields them one at a time) to ``path`` (atomically),
    H.264 yuv420p by default."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = iter(frames)
    first = next(frames)
    height, width = first.shape[:2]
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=path.suffix, delete=False) as tmp:
        tmp_path = Path(tmp.name)
    # faststart puts the index first, so the file also streams over HTTP without range requests.
    options = {"movflags": "+faststart"} if faststart and path.suffix.lower() in (".mp4", ".mov") else {}
    with av.open(str(tmp_path), mode="w", options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.gop_size = fps  # a keyframe a second: quick seeks, short stream segments
        for image in itertools.chain([first], frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.chmod(tmp_path, 0o644)  # temporary files are private; the result is an ordinary file
    os.replace(tmp_path, path)
    return path


def demo_clip() -> Path:
    """Path of the demo clip, generating it on first use (about a second)."""
    path = cache_dir() / "demo_face_v3.mp4"
    if not path.is_file():
        write_video(path, render_face_frames(100))
    return path
