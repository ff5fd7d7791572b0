"""Upright decoding of video files: the one loop the engine's file source, the display, scans and training use.

Frames are numbered as the engine counts them (damaged packets are skipped without counting a
frame) and turned upright by the stream's display rotation, as players show them, so a face box
found by the engine fits the image every other reader decodes for the same frame number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np


def upright(image: np.ndarray, rotation_deg: float) -> np.ndarray:
    """Applies a display rotation (counter-clockwise degrees, as PyAV reports it), as players do."""
    quarter_turns = round(rotation_deg / 90.0) % 4
    return np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image


def upright_rgb(frame: av.VideoFrame) -> np.ndarray:
    """A decoded frame as H x W x 3 RGB uint8, display rotation applied."""
    return upright(frame.to_ndarray(format="rgb24"), frame.rotation)


def decoded_frames(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    on_damaged: Callable[[], None] | None = None,
) -> Iterator[av.VideoFrame]:
    """The frames of ``stream`` in decoding order; a damaged packet is skipped (``on_damaged`` is told)."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            if on_damaged is not None:
                on_damaged()
            continue
        yield from frames


def upright_frames(path: Path, wanted: set[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(frame number, upright RGB image) of a video file, all frames or only those in ``wanted``."""
    last = max(wanted) if wanted else None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(decoded_frames(container, stream)):
            if wanted is None or index in wanted:
                yield index, upright_rgb(frame)
            if last is not None and index >= last:
                break
