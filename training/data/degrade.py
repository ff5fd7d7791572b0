"""The aligned degradation chain: one random capture-and-delivery history for a real and its fake.

Source, codec and sharpness are easier to learn than manipulation unless every fake has a real
twin that went through the same processing. :func:`sample_degradation` draws one history and
:func:`degrade_window` replays it exactly, so a real window and the fake made from it can pass
through the identical chain (same blur, same noise pattern, same resize, same codec settings).

Steps, each present with some probability, in the order footage meets them: optics (Gaussian
blur), sensor (Gaussian luminance noise), rescaling (down and back up), delivery (H.264 via
PyAV) and a final JPEG (screenshots, thumbnails, re-uploads).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import cv2
import numpy as np

DOWN_INTERPOLATIONS = (cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC)
UP_INTERPOLATIONS = (cv2.INTER_LINEAR, cv2.INTER_CUBIC)
PRESETS = ("ultrafast", "veryfast")
FRAME_RATE = 25
MIN_RESIZED_SIDE = 8
# Probability of each step; together they leave about one window in five untouched.
P_BLUR, P_NOISE, P_RESIZE, P_H264, P_JPEG = 0.3, 0.3, 0.4, 0.5, 0.25


@dataclass(frozen=True)
class DegradeParams:
    """One degradation history; the defaults are all steps off (see :func:`identity_degradation`)."""

    blur_sigma: float = 0.0  # Gaussian blur sigma in pixels; 0 skips the step
    noise_sigma: float = 0.0  # Gaussian noise sigma on the 0-255 scale; 0 skips the step
    noise_seed: int = 0  # seed of the noise pattern, so that twins get the same noise
    resize_factor: float = 1.0  # down-scaling factor before scaling back up; 1 skips the step
    resize_down: int = cv2.INTER_AREA  # cv2 interpolation used to scale down
    resize_up: int = cv2.INTER_LINEAR  # cv2 interpolation used to scale back up
    crf: int | None = None  # libx264 constant rate factor; None skips the re-encode
    preset: str = "ultrafast"  # libx264 preset
    jpeg_quality: int | None = None  # JPEG quality; None skips the step


def identity_degradation() -> DegradeParams:
    """The no-op history: :func:`degrade_window` returns its input unchanged."""
    return DegradeParams()


def sample_degradation(rng: np.random.Generator) -> DegradeParams:
    """One random degradation history."""
    return DegradeParams(
        blur_sigma=float(rng.uniform(0.3, 2.0)) if rng.random() < P_BLUR else 0.0,
        noise_sigma=float(rng.uniform(1.0, 6.0)) if rng.random() < P_NOISE else 0.0,
        noise_seed=int(rng.integers(0, 2**31 - 1)),
        resize_factor=float(rng.uniform(0.3, 0.9)) if rng.random() < P_RESIZE else 1.0,
        resize_down=int(rng.choice(DOWN_INTERPOLATIONS)),
        resize_up=int(rng.choice(UP_INTERPOLATIONS)),
        crf=int(rng.integers(18, 41)) if rng.random() < P_H264 else None,
        preset=str(rng.choice(PRESETS)),
        jpeg_quality=int(rng.integers(30, 96)) if rng.random() < P_JPEG else None,
    )


def degrade_window(window: np.ndarray, params: DegradeParams) -> np.ndarray:
    """A (T, H, W, 3) uint8 RGB window put through ``params``' history; same shape and dtype.

    Deterministic: the same window and params always give the same output, and two windows of one
    shape get the same blur, noise pattern, resizing and codec settings.
    """
    frames = window
    if params.blur_sigma > 0:
        frames = np.stack([cv2.GaussianBlur(frame, (0, 0), params.blur_sigma) for frame in frames])
    if params.noise_sigma > 0:
        frames = add_noise(frames, params.noise_sigma, params.noise_seed)
    if params.resize_factor < 1.0:
        frames = np.stack([_down_up(frame, params) for frame in frames])
    if params.crf is not None:
        frames = h264_roundtrip(frames, params.crf, params.preset)
    if params.jpeg_quality is not None:
        frames = np.stack([jpeg_roundtrip(frame, params.jpeg_quality) for frame in frames])
    return frames


def add_noise(frames: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """Frames plus Gaussian noise whose pattern depends only on ``seed`` and the window's shape.

    One noise value per pixel, added to all three channels: cameras' chroma noise reduction leaves
    mostly luminance noise, and it costs a third of per-channel noise. The noise is rounded before
    it is added, so twins differ after it only where clipping at 0 or 255 cuts it.
    """
    luma = np.random.default_rng(seed).standard_normal(frames.shape[:-1], dtype=np.float32) * sigma
    noise = np.rint(luma).astype(np.int16)[..., None]
    return np.clip(frames.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _down_up(frame: np.ndarray, params: DegradeParams) -> np.ndarray:
    height, width = frame.shape[:2]
    small_size = (
        max(round(width * params.resize_factor), MIN_RESIZED_SIDE),
        max(round(height * params.resize_factor), MIN_RESIZED_SIDE),
    )
    small = cv2.resize(frame, small_size, interpolation=params.resize_down)
    return cv2.resize(small, (width, height), interpolation=params.resize_up)


def h264_roundtrip(frames: np.ndarray, crf: int, preset: str) -> np.ndarray:
    """The frames encoded as one short yuv420p H.264 stream in memory (libx264) and decoded back.

    yuv420p needs even sides, so odd sizes are edge-padded and cropped back. One encoder thread:
    this runs inside data-loader workers, and x264 is deterministic with it.
    """
    count, height, width = frames.shape[:3]
    padded = np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=FRAME_RATE)
        stream.width, stream.height = padded.shape[2], padded.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        stream.codec_context.thread_count = 1
        for frame in padded:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer, "r", format="h264") as container:
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    if len(decoded) != count:
        raise RuntimeError(f"H.264 round trip returned {len(decoded)} frames for {count}")
    return np.stack(decoded)[:, :height, :width]


def jpeg_roundtrip(frame: np.ndarray, quality: int) -> np.ndarray:
    """One RGB frame through JPEG at ``quality`` (OpenCV codes BGR, hence the conversions)."""
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), (cv2.IMWRITE_JPEG_QUALITY, quality))
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
