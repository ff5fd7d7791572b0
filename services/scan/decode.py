"""Decodes a file the way the engine's file source does, for the passes after a scan (crops, export).

Frame numbers must match the scan's: like :class:`realtime.sources.av_source.AvSource`, damaged
packets are skipped without counting a frame, and frames are turned upright by the stream's
display rotation, so the face boxes found by the scan fit the images decoded here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np

from common.decode import upright_rgb


@dataclass(frozen=True)
class DecodedFrame:
    """A video frame with its number in the scan's counting."""

    index: int
    frame: av.VideoFrame

    def upright_rgb(self) -> np.ndarray:
        """The image as the engine analysed it (H x W x 3 RGB uint8, display rotation applied)."""
        return upright_rgb(self.frame)


def demux_frames(
    container: av.container.InputContainer, video: av.VideoStream, *others: av.stream.Stream
) -> Iterator[DecodedFrame | av.Packet]:
    """Decoded frames of ``video`` in order, interleaved with the raw packets of ``others`` (e.g. audio)."""
    index = 0
    for packet in container.demux(video, *others):
        if packet.stream is not video:
            yield packet
            continue
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            continue  # a damaged packet: the engine skipped it too
        for frame in frames:
            yield DecodedFrame(index, frame)
            index += 1
