"""Broken and unusual video files: a clear one-line error or a documented best effort."""

import threading
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from faces.detector import FaceDetector
from realtime.sources.av_source import AvSource
from realtime.sources.demo import portrait, render_face_frames, write_video
from tests.support.rotated import rotated_clip
from tests.test_run_live import records, run_live


def one_error_line(result) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 1 and len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    return errors[0]


def decode_all(path) -> tuple[AvSource, list]:
    source = AvSource(str(path), live=False)
    source.open()
    frames = list(source.frames(threading.Event()))
    source.close()
    return source, frames


def test_empty_truncated_and_audio_only_files_fail_with_one_line(tmp_path, small_checkpoint):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    whole = write_video(tmp_path / "whole.mp4", render_face_frames(30), faststart=False)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # index (moov) lost
    audio = tmp_path / "audio.m4a"
    with av.open(str(audio), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    model = ["--model", str(small_checkpoint)]
    assert "empty.mp4" in one_error_line(run_live("--source", str(empty), *model))
    assert "truncated.mp4" in one_error_line(run_live("--source", str(truncated), *model))
    assert "no video stream" in one_error_line(run_live("--source", str(audio), *model))


def test_image_named_mp4_is_analysed_as_one_frame(tmp_path, small_checkpoint):
    fake_video = tmp_path / "photo.mp4"
    cv2.imwrite(str(tmp_path / "photo.png"), portrait()[:, :, ::-1])
    fake_video.write_bytes((tmp_path / "photo.png").read_bytes())
    result = run_live("--source", str(fake_video), "--model", str(small_checkpoint))
    assert result.returncode == 0, result.stderr
    summary = records(result.stdout)[-1]
    assert summary["frames_read"] == 1 and summary["faces_seen"] == 1 and summary["windows_scored"] == 1


def test_damaged_packets_are_skipped_and_the_gap_reported(tmp_path, small_checkpoint):
    clip = write_video(tmp_path / "clip.mp4", render_face_frames(100))
    data = bytearray(clip.read_bytes())
    middle = len(data) // 2
    rng = np.random.default_rng(0)
    for offset in range(middle, middle + 3000, 7):
        data[offset] = int(rng.integers(0, 256))
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    source, frames = decode_all(damaged)
    assert source.decode_errors > 0 and 60 < len(frames) < 100
    result = run_live("--source", str(damaged), "--model", str(small_checkpoint))
    assert result.returncode == 0, result.stderr
    lines = records(result.stdout)
    summary = lines[-1]
    assert summary["decode_errors"] == source.decode_errors
    gap_start, gap_end = summary["decode_gaps"][0]
    assert 0 < gap_start < gap_end < 4.0
    verdict_times = [v["end_pts_s"] for v in lines[:-1]]
    assert min(verdict_times) < gap_start and max(verdict_times) > gap_end  # analysed around the hole


@pytest.mark.parametrize(
    ("size", "codec", "pix_fmt"),
    [((641, 361), "libx264rgb", "rgb24"), ((640, 360), "libx264", "yuv420p10le")],
    ids=["odd-dimensions", "10-bit"],
)
def test_odd_sizes_and_10_bit_decode_to_rgb_with_the_face_found(tmp_path, size, codec, pix_fmt):
    width, height = size
    frames = render_face_frames(10, width=width, height=height)
    _, decoded = decode_all(write_video(tmp_path / "odd.mp4", frames, codec=codec, pix_fmt=pix_fmt))
    assert len(decoded) == 10 and decoded[0].image.shape == (height, width, 3)
    assert FaceDetector().detect(decoded[5].image)


def test_variable_frame_rate_keeps_real_timestamps(tmp_path):
    path = tmp_path / "vfr.mkv"
    frames = render_face_frames(12)
    times_s = [0.0, 0.04, 0.08, 0.3, 0.32, 0.34, 1.0, 1.04, 1.08, 1.12, 2.0, 2.5]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for image, t in zip(frames, times_s, strict=True):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    _, decoded = decode_all(path)
    assert [round(f.pts_s, 2) for f in decoded] == times_s


def test_4k_frames_are_downscaled_for_detection_and_the_face_found(tmp_path):
    big = cv2.resize(portrait(), (1400, 1400))
    canvas = np.full((2160, 3840, 3), 90, np.uint8)
    canvas[380:1780, 1200:2600] = big
    _, decoded = decode_all(write_video(tmp_path / "4k.mp4", [canvas] * 3))
    assert decoded[0].image.shape == (2160, 3840, 3)
    faces = FaceDetector(max_side=640).detect(decoded[0].image)
    assert len(faces) == 1 and faces[0].box.width > 300  # box in full-frame pixels


def test_rotation_metadata_is_applied_like_a_player_does(tmp_path):
    upright = render_face_frames(5)  # 360 x 640
    rotated = rotated_clip(tmp_path, upright)
    stored = [np.ascontiguousarray(np.rot90(image, 1)) for image in upright]
    _, decoded = decode_all(rotated)
    assert decoded[0].image.shape == (360, 640, 3)
    assert FaceDetector().detect(decoded[2].image), "the face is not upright after applying the rotation"
    assert not FaceDetector().detect(stored[2]), "the stored frames must not be detectable as they are"
