"""Fixtures of the scan tests: one in-process scan of the one-face clip, shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.services.scan.scanning import make_scanner


@pytest.fixture(scope="session")
def one_face_scan(one_face_clip: Path, small_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    """The one-face clip scanned with every frame analysed; its report set sits in a temporary folder."""
    from services.scan.reports import report_paths

    scanner = make_scanner(small_checkpoint, stride=2)
    outcome = scanner.scan(one_face_clip, report_paths(one_face_clip, tmp_path_factory.mktemp("reports")))
    assert outcome.status == "scanned", outcome.error
    return outcome


@pytest.fixture(scope="session")
def face_clip_with_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s, 25 fps, 640x360 H.264 of the gliding face plus a 440 Hz AAC tone (48 kHz mono)."""
    import av
    import numpy as np

    from realtime.sources.demo import render_face_frames

    path = tmp_path_factory.mktemp("clips") / "face_with_audio.mp4"
    rate, seconds = 48_000, 2.0
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 640, 360, "yuv420p"
        audio = container.add_stream("aac", rate=rate)
        audio.layout = "mono"
        for image in render_face_frames(50):
            container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(rate * seconds)) / rate)).astype(np.float32)
        for start in range(0, len(samples), 1024):
            chunk = av.AudioFrame.from_ndarray(samples[None, start : start + 1024], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = rate, start
            container.mux(audio.encode(chunk))
        container.mux(video.encode())
        container.mux(audio.encode())
    return path
