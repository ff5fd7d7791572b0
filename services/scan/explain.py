"""Which faces a scan explains, the crops it cuts for them and what an explainer offers (no torch).

The explainers themselves (Grad-CAM for CNN detectors in ``services.scan.gradcam``, token gradients
for ViT detectors in ``services.scan.token_relevance``) and the table that picks one by architecture
(``services.scan.heatmaps``) need torch and are loaded only where it is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
import cv2
import numpy as np

from common.decode import decoded_frames, upright_rgb
from faces.crops import CropSettings, FaceImages, face_images
from faces.geometry import Box
from models.spec import ModelSpec
from realtime.frames import Verdict
from services.scan.scan import Bounds, ScanResult


@dataclass(frozen=True)
class Explanation:
    """A scored window, the crop of its last frame and that crop's heatmap."""

    verdict: Verdict
    frame_index: int  # the window's last frame, where the crop comes from
    box: Bounds  # face box in that frame
    crop: np.ndarray  # S x S x 3 uint8 RGB, as the model saw it
    heatmap: np.ndarray  # S x S float32 in 0-1
    method: str = "grad-cam"  # the explainer's name (Explainer.method)


class Explainer(Protocol):
    """Heatmaps of a detector: where in a window's crops the evidence for its fake score sits."""

    method: str  # what reports call it: "grad-cam", "token-gradient"
    whole_window: bool  # False: a crop's heatmap does not depend on the window's other crops (they need no decode)

    def __call__(self, faces: list[FaceImages], explained: Sequence[int] = (-1,)) -> np.ndarray:
        """Heatmaps (len(explained), S, S) in 0-1 of the crops of one window at positions ``explained``
        (default: the last), on one scale within a call."""
        ...


def scaled_heatmaps(maps: np.ndarray, size: int) -> np.ndarray:
    """(N, h, w) non-negative relevance grids -> (N, size, size) float32 in 0-1: divided by the largest value of
    all N (heatmaps of one call compare), upsampled bicubically to the crop."""
    maps = maps / max(float(maps.max()), 1e-12)
    resized = [cv2.resize(m.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC) for m in maps]
    return np.stack(resized).clip(0.0, 1.0)


def pick_windows(verdicts: list[Verdict], count: int) -> list[Verdict]:
    """The ``count`` highest-scoring windows, no two of one face overlapping in frames."""
    picked: list[Verdict] = []
    for verdict in sorted(verdicts, key=lambda v: (-v.p_fake, v.last_frame, v.track_id)):
        if len(picked) == count:
            break
        overlaps = any(
            p.track_id == verdict.track_id
            and p.first_frame <= verdict.last_frame
            and verdict.first_frame <= p.last_frame
            for p in picked
        )
        if not overlaps:
            picked.append(verdict)
    return picked


def window_boxes(result: ScanResult, verdict: Verdict) -> list[tuple[int, Bounds]]:
    """(frame index, face box) of the analysed frames that made up ``verdict``'s window, oldest first."""
    boxes = []
    for frame in result.frames:
        if verdict.first_frame <= frame.index <= verdict.last_frame:
            boxes += [(frame.index, tuple(face[1:])) for face in frame.faces if face[0] == verdict.track_id]
    return boxes[-verdict.window_frames :]


def read_crops(path: Path, wanted: dict[int, list[Bounds]], spec: ModelSpec) -> dict[tuple[int, Bounds], FaceImages]:
    """Decodes ``path`` up to the last wanted frame; returns {(frame index, box): crop} as the engine cut them."""
    crops: dict[tuple[int, Bounds], FaceImages] = {}
    last = max(wanted, default=-1)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for decoded in decoded_frames(container, stream):
            if decoded.index > last:
                break
            if decoded.index in wanted:
                crops.update(cut(decoded.upright_rgb(), decoded.index, wanted[decoded.index], spec))
    return crops


def cut(image: np.ndarray, index: int, boxes: list[Bounds], spec: ModelSpec) -> dict[tuple[int, Bounds], FaceImages]:
    """What the engine cut of ``boxes`` in frame ``index`` (crop, and canvas for models that read one)."""
    crop = CropSettings(spec.crop_margin, spec.input_size, spec.aligned, spec.canvas_size)
    return {(index, box): face_images(image, Box(*box), (), crop) for box in boxes}


def read_crops_seeking(
    path: Path,
    wanted: dict[int, list[Bounds]],
    times: dict[int, float],
    first_pts_s: float,
    spec: ModelSpec,
) -> dict[tuple[int, Bounds], FaceImages] | None:
    """Like :func:`read_crops`, but seeks to each window instead of decoding the file from its start, so
    the cost does not grow with the file's length. Frames are matched by timestamp (``times``: frame
    index -> pts_s of the scan, counted from ``first_pts_s``). None when any wanted frame is not found
    this way (missing timestamps, damaged file): the caller then decodes from the start.
    """
    crops: dict[tuple[int, Bounds], FaceImages] = {}
    index_at = {round(times[index], 6): index for index in wanted}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for run in contiguous_runs(sorted(wanted)):
            end_s = times[run[-1]]
            container.seek(int((first_pts_s + times[run[0]]) / stream.time_base), stream=stream, backward=True)
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.InvalidDataError:
                    return None
                for frame in frames:
                    if frame.time is None:
                        return None
                    at = float(frame.time) - first_pts_s
                    index = index_at.get(round(at, 6))
                    if index is not None and index in wanted:
                        image = upright_rgb(frame)
                        crops.update(cut(image, index, wanted[index], spec))
                if packet.pts is not None and packet.pts * stream.time_base - first_pts_s > end_s + 1.0:
                    break  # past the run (with slack for B-frame reordering)
    found = {index for index, _ in crops}
    return crops if found == set(wanted) else None


def contiguous_runs(indices: list[int], gap: int = 30) -> list[list[int]]:
    """Sorted frame indices split where two neighbours are more than ``gap`` frames apart (one seek each)."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and index - runs[-1][-1] <= gap:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs
