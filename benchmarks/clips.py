"""Benchmark clips: real footage from ../shared/data composed into 720p/1080p frames, and the machine's yardstick.

Each clip is built once into the bench cache from fixed files of the shared data (a real talking head
filmed at 512x512, two more real clips for the four-face grid), looped forward and back to the asked
length and encoded with libx264 at 30 fps. ``describe`` says what a clip is made of, so every result
records it. ``decode_seconds`` is the yardstick: single-threaded FFmpeg (PyAV) decoding of the same
clip, which machines 2-3x apart in speed scale alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np

from benchmarks.common import bench_cache, clip_720p
from common.decode import upright_frames
from realtime.sources.demo import write_video

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TALKING_HEAD = "real/KwaiVGI__LivePortrait__d10.mp4"  # 512x512, one large real face, 15 s
GRID_CLIPS = (
    TALKING_HEAD,
    "real/KwaiVGI__LivePortrait__d6.mp4",
    "real/AliaksandrSiarohin__first-order-model__10.mp4",
    "real/FuxiVirtualHuman__styletalk__Obama_clip1.mp4",
)
FPS = 30

# name -> (output size, the shared files, how they are laid out)
LAYOUTS = {
    "real_720p_1face": ((1280, 720), (TALKING_HEAD,), "the talking head scaled to 720 px high, padded to 1280"),
    "real_1080p_1face": ((1920, 1080), (TALKING_HEAD,), "the talking head scaled to 1080 px high, padded to 1920"),
    "real_720p_small_face": ((1280, 720), (TALKING_HEAD,), "the talking head at 240 px in a 1280x720 frame"),
    "real_720p_4faces": ((1280, 720), GRID_CLIPS, "four real clips in a 2x2 grid of 640x360 cells"),
}


class SharedDataMissing(Exception):
    """../shared/data (or a file of it) is not here: real-clip benchmarks skip with this reason."""


def shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_file():
        raise SharedDataMissing(f"real-clip benchmarks need {path} (../shared/data is absent)")
    return path


def looped(path: Path, count: int) -> Iterator[np.ndarray]:
    """``count`` frames of a clip played forward, backward, forward... (no jump cut at the seams)."""
    frames = [image for _, image in upright_frames(path)]
    order = list(range(len(frames))) + list(range(len(frames) - 2, 0, -1))
    for i in range(count):
        yield frames[order[i % len(order)]]


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to fit ``width`` x ``height``, centred on a dark grey background."""
    scale = min(width / image.shape[1], height / image.shape[0])
    size = (max(2, round(image.shape[1] * scale)), max(2, round(image.shape[0] * scale)))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    canvas = np.full((height, width, 3), 40, np.uint8)
    top, left = (height - size[1]) // 2, (width - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = resized
    return canvas


def _compose(name: str, count: int) -> Iterator[np.ndarray]:
    (width, height), files, _ = LAYOUTS[name]
    sources = [looped(shared_file(f), count) for f in files]
    for frames in zip(*sources, strict=True):
        if name == "real_720p_small_face":
            yield fit(fit(frames[0], 240, 240), width, height)
        elif len(frames) == 4:
            cells = [fit(frame, width // 2, height // 2) for frame in frames]
            yield np.concatenate([np.concatenate(cells[:2], axis=1), np.concatenate(cells[2:], axis=1)], axis=0)
        else:
            yield fit(frames[0], width, height)


def bench_clip(name: str, seconds: float = 20.0) -> Path:
    """The clip ``name`` ("generated_720p_1face" or one of LAYOUTS), built on first use."""
    path = bench_cache() / f"{name}_{seconds:g}s.mp4"
    if name == "generated_720p_1face":
        return clip_720p(path, seconds=seconds)
    if name not in LAYOUTS:
        raise ValueError(f"unknown benchmark clip {name!r}; known: generated_720p_1face, {', '.join(LAYOUTS)}")
    if not path.is_file():
        write_video(path, _compose(name, round(seconds * FPS)), fps=FPS)
    return path


def describe(name: str) -> str:
    """What a benchmark clip shows and where its footage comes from."""
    if name == "generated_720p_1face":
        return "generated: scikit-image's astronaut portrait gliding over grey, 1280x720"
    (width, height), files, layout = LAYOUTS[name]
    return f"{width}x{height} {FPS} fps, {layout}; footage: {', '.join(Path(f).name for f in files)} (../shared/data)"


def decode_seconds(path: Path, repeats: int = 3) -> float:
    """The yardstick: median wall time of decoding the whole clip on one FFmpeg thread."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "NONE"
            stream.codec_context.thread_count = 1
            for _frame in container.decode(stream):
                pass
        times.append(time.perf_counter() - started)
    return round(sorted(times)[len(times) // 2], 3)


def clip_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return float(stream.frames) / float(stream.average_rate)
