"""Upright decoding of video files: the one loop the engine's file source, the display, scans and training use.

Frames are numbered as the engine counts them (damaged packets are skipped without counting a
frame) and turned upright by the stream's display rotation, as players show them, so a face box
found by the engine fits the image every other reader decodes for the same frame number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class DecodedFrame:
    """A decoded video frame with its frame number as the engine counts them."""

    index: int
    frame: av.VideoFrame

    def upright_rgb(self) -> np.ndarray:
        """The image as the engine analyses it (H x W x 3 RGB uint8, display rotation applied)."""
        return upright_rgb(self.frame)


def demux_frames(
    container: av.container.InputContainer,
    video: av.VideoStream,
    *others: av.stream.Stream,
    on_damaged: Callable[[], None] | None = None,
) -> Iterator[DecodedFrame | av.Packet]:
    """The numbered frames of ``video`` in decoding order, interleaved with the raw packets of ``others``
    (e.g. audio). A damaged video packet is skipped without counting a frame (``on_damaged`` is told)."""
    index = 0
    for packet in container.demux(video, *others):
        if packet.stream is not video:
            yield packet
            continue
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            if on_damaged is not None:
                on_damaged()
            continue
        for frame in frames:
            yield DecodedFrame(index, frame)
            index += 1


def decoded_frames(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    on_damaged: Callable[[], None] | None = None,
) -> Iterator[DecodedFrame]:
    """The numbered frames of ``stream`` alone (see :func:`demux_frames`)."""
    for item in demux_frames(container, stream, on_damaged=on_damaged):
        if isinstance(item, DecodedFrame):  # always, with no other stream demuxed
            yield item


def upright_frames(path: Path, wanted: set[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(frame number, upright RGB image) of a video file, all frames or only those in ``wanted``."""
    last = max(wanted) if wanted else None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for decoded in decoded_frames(container, stream):
            if wanted is None or decoded.index in wanted:
                yield decoded.index, decoded.upright_rgb()
            if last is not None and decoded.index >= last:
                break
