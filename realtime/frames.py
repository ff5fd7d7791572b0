"""Immutable records passed between pipeline stages.

Each carries ids and timestamps (stream pts in seconds and a monotonic capture time) so that
latency can be measured at every stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faces.geometry import Box


@dataclass(frozen=True, eq=False)
class Frame:
    """A decoded RGB frame."""

    index: int  # 0-based position in the stream, counting frames dropped later too
    pts_s: float  # presentation time in seconds from the stream start
    captured_at: float  # time.monotonic() when the frame left the decoder
    image: np.ndarray  # H x W x 3, uint8, RGB
    clip_id: int = 0  # changes when the source jumps to unrelated content (next image of a folder)
    name: str = ""  # for image folders: which file this frame came from


@dataclass(frozen=True)
class TrackedFace:
    """Where one tracked face is in a frame."""

    track_id: int
    box: Box


@dataclass(frozen=True, eq=False)
class AnalyzedFrame:
    """A frame after the face stage, for displays: the image and its tracked faces."""

    source: str
    frame: Frame
    faces: tuple[TrackedFace, ...]


@dataclass(frozen=True, eq=False)
class FaceCrop:
    """A face of one track cut out of one frame, ready for the backbone."""

    source: str
    track_id: int
    frame_index: int
    pts_s: float
    captured_at: float
    crop: np.ndarray  # S x S x 3, uint8, RGB
    name: str = ""  # image file name, for image sources
    canvas: np.ndarray | None = None  # native-resolution canvas around the face, for models that read one


@dataclass(frozen=True)
class Verdict:
    """The model's fake probability for one window of one face track."""

    source: str
    track_id: int
    first_frame: int
    last_frame: int
    start_pts_s: float
    end_pts_s: float
    window_frames: int
    p_fake: float
    label: str  # "fake" / "real" at the model threshold, "untrained" when the model has no training
    latency_ms: float  # capture of the window's last frame -> verdict
    name: str = ""  # image file name, for image sources
