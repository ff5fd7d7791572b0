"""Grad-CAM heatmaps: which parts of a face crop pushed a window's fake score up.

The gradient of the window's logit (LSTM head over all crops of the window) flows back to the
backbone's last convolution of every crop; channels are weighted by their mean gradient and the
positive part of the weighted sum, upsampled to the crop, is the heatmap. Works for any detector
of the registry (it looks for the backbone's last ``Conv2d``); the Qt app can call
:class:`GradCam` with the crops of any window it shows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import torch
from torch import nn

from models.checkpoint import ModelSpec
from realtime.faces.crops import square_crop
from realtime.faces.geometry import Box
from realtime.frames import Verdict
from realtime.scan.decode import demux_frames
from realtime.scan.scan import Bounds, ScanResult
from realtime.sources.av_source import upright


@dataclass(frozen=True)
class Explanation:
    """A scored window, the crop of its last frame and that crop's heatmap."""

    verdict: Verdict
    frame_index: int  # the window's last frame, where the crop comes from
    box: Bounds  # face box in that frame
    crop: np.ndarray  # S x S x 3 uint8 RGB, as the model saw it
    heatmap: np.ndarray  # S x S float32 in 0-1


def last_conv(model: nn.Module) -> nn.Conv2d:
    """The backbone's last convolution (the deepest layer that still has a spatial map)."""
    root = getattr(model, "backbone", model)
    convs = [m for m in root.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("the model's backbone has no Conv2d layer to explain")
    return convs[-1]


class GradCam:
    """Grad-CAM for one detector; call it with the crops of a window.

    ``model`` must offer ``embed`` and ``score_features``; a float32 copy is used, the original is
    never changed. Only the explained crops go through the backbone with gradients, the rest of the
    window under ``no_grad``, so memory stays that of a few crops whatever the window length.
    """

    def __init__(
        self,
        model: nn.Module,
        spec: ModelSpec,
        device: torch.device,
        embed: Callable[[list[np.ndarray]], torch.Tensor] | None = None,
    ) -> None:
        """``embed`` (e.g. the engine's :meth:`CropScorer.embed`, ONNX Runtime on CPU) computes the
        features of the crops that need no gradient; default: the model's own backbone."""
        self.model = copy.deepcopy(model).float().to(device).eval()
        self.embed = embed
        self.layer = last_conv(self.model)
        self.device = device
        self.mean = torch.tensor(spec.mean, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(spec.std, device=device).view(1, 3, 1, 1)

    def __call__(self, crops: list[np.ndarray], explained: Sequence[int] = (-1,)) -> np.ndarray:
        """Heatmaps (len(explained), S, S) in 0-1 of the crops at positions ``explained`` (default: the last).

        Heatmaps of one call share one scale, so they compare.
        """
        positions = [p % len(crops) for p in explained]
        batch = torch.from_numpy(np.stack(crops)).to(self.device).permute(0, 3, 1, 2).float().div(255.0)
        batch = (batch - self.mean) / self.std
        with torch.no_grad():
            if self.embed is not None:
                # clone(): a normal tensor, as inference-mode tensors cannot enter autograd.
                features = self.embed(crops).to(self.device, torch.float32).clone()
            else:
                features = self.model.embed(batch)
        captured: list[torch.Tensor] = []
        handle = self.layer.register_forward_hook(lambda _m, _i, output: captured.append(output))
        try:
            # cuDNN's LSTM has no backward in eval mode; the plain kernels do.
            with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
                with_grad = self.model.embed(batch[positions])
                index = torch.tensor(positions, device=self.device)
                window = features.index_copy(0, index, with_grad)  # the window, gradients through the explained crops
                logit = self.model.score_features(window.unsqueeze(0)).sum()
                (gradient,) = torch.autograd.grad(logit, captured[0])
        finally:
            handle.remove()
        activation = captured[0].detach()
        weights = gradient.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * activation).sum(dim=1)).cpu().numpy()
        cam /= max(float(cam.max()), 1e-12)
        size = batch.shape[-1]
        return np.stack([cv2.resize(c, (size, size), interpolation=cv2.INTER_CUBIC) for c in cam]).clip(0.0, 1.0)


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


def read_crops(path: Path, wanted: dict[int, list[Bounds]], spec: ModelSpec) -> dict[tuple[int, Bounds], np.ndarray]:
    """Decodes ``path`` up to the last wanted frame; returns {(frame index, box): crop} as the engine cut them."""
    crops: dict[tuple[int, Bounds], np.ndarray] = {}
    last = max(wanted, default=-1)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for decoded in demux_frames(container, stream):
            if decoded.index > last:
                break
            if decoded.index in wanted:
                crops.update(cut(decoded.upright_rgb(), decoded.index, wanted[decoded.index], spec))
    return crops


def cut(image: np.ndarray, index: int, boxes: list[Bounds], spec: ModelSpec) -> dict[tuple[int, Bounds], np.ndarray]:
    """The engine's crops of ``boxes`` in frame ``index``."""
    return {(index, box): square_crop(image, Box(*box), spec.crop_margin, spec.input_size) for box in boxes}


def read_crops_seeking(
    path: Path,
    wanted: dict[int, list[Bounds]],
    times: dict[int, float],
    first_pts_s: float,
    spec: ModelSpec,
) -> dict[tuple[int, Bounds], np.ndarray] | None:
    """Like :func:`read_crops`, but seeks to each window instead of decoding the file from its start, so
    the cost does not grow with the file's length. Frames are matched by timestamp (``times``: frame
    index -> pts_s of the scan, counted from ``first_pts_s``). None when any wanted frame is not found
    this way (missing timestamps, damaged file): the caller then decodes from the start.
    """
    crops: dict[tuple[int, Bounds], np.ndarray] = {}
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
                        image = upright(frame.to_ndarray(format="rgb24"), frame.rotation)
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


def explain(
    path: Path,
    result: ScanResult,
    model: nn.Module,
    spec: ModelSpec,
    device: torch.device,
    count: int,
    embed: Callable[[list[np.ndarray]], torch.Tensor] | None = None,
) -> list[Explanation]:
    """Grad-CAM of the ``count`` most suspicious windows of a finished scan (decoding only around those
    windows where the file has timestamps; ``embed`` as in :class:`GradCam`)."""
    chosen = [(v, window_boxes(result, v)) for v in pick_windows(result.verdicts, count)]
    chosen = [(v, boxes) for v, boxes in chosen if boxes]
    if not chosen:
        return []
    wanted: dict[int, list[Bounds]] = {}
    for _, boxes in chosen:
        for index, box in boxes:
            wanted.setdefault(index, []).append(box)
    crops = None
    if result.first_pts_s is not None:
        times = {frame.index: frame.pts_s for frame in result.frames if frame.index in wanted}
        crops = read_crops_seeking(path, wanted, times, result.first_pts_s, spec)
    if crops is None:
        crops = read_crops(path, wanted, spec)
    cam = GradCam(model, spec, device, embed)
    explanations = []
    for verdict, boxes in chosen:
        window = [crops[item] for item in boxes]
        index, box = boxes[-1]
        explanations.append(Explanation(verdict, index, box, window[-1], cam(window)[0].astype(np.float32)))
    return explanations
