"""Upright decoding: damaged packets skipped without counting a frame, by every reader alike."""

from __future__ import annotations

import threading

import av
import numpy as np

from common.decode import DecodedFrame, decoded_frames, demux_frames, upright_frames
from realtime.sources.av_source import AvSource
from realtime.sources.demo import render_face_frames, write_video


def test_every_reader_numbers_the_frames_of_a_damaged_file_alike(tmp_path):
    clip = write_video(tmp_path / "clip.mp4", render_face_frames(60))
    data = bytearray(clip.read_bytes())
    rng = np.random.default_rng(0)
    for offset in range(len(data) // 2, len(data) // 2 + 3000, 7):
        data[offset] = int(rng.integers(0, 256))
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))

    damaged_packets = []
    with av.open(str(damaged)) as container:
        stream = container.streams.video[0]
        frames = list(decoded_frames(container, stream, lambda: damaged_packets.append(1)))
    assert damaged_packets and 0 < len(frames) < 60
    assert [frame.index for frame in frames] == list(range(len(frames)))  # no number for a damaged packet
    with av.open(str(damaged)) as container:
        demuxed = list(demux_frames(container, container.streams.video[0]))
    assert all(isinstance(item, DecodedFrame) for item in demuxed) and len(demuxed) == len(frames)

    source = AvSource(str(damaged), live=False)
    source.open()
    engine_frames = list(source.frames(threading.Event()))
    source.close()
    assert source.decode_errors == len(damaged_packets)
    upright = dict(upright_frames(damaged))
    assert [frame.index for frame in engine_frames] == sorted(upright) == [frame.index for frame in frames]
    last = engine_frames[-1]
    assert np.array_equal(upright[last.index], last.image)  # the same image under the same number
