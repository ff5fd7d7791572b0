"""Heatmaps of the CLIP ViT-B/16 probe: what one explained window costs, and whether the maps follow the logit.

Cost: the probe built from the wheel, its explainer (a float32 copy), then per crop a plain forward of the
torch tower and one heatmap (``TokenRelevance``), medians of ``--repeats``. A scan pays the build once per
process and one heatmap per explained window (the probe's head reads each crop on its own).

Faithfulness, on the first ``--crops`` real face stills of ../shared/data/images_real (skipped with the
reason when absent), for the scan's method (token-gradient) and two alternatives computed here:
``grad-cam-tokens`` (Grad-CAM on the patch tokens entering the last block: channel weights = mean gradient)
and ``gradient-x-attention`` (the last block's CLS attention row times its gradient, positive part, mean
over heads). Two checks:

- occlusion: heads along the crops' first three principal components; the 20 hottest or coldest of the
  196 patches are replaced by a blurred copy; ``hot_beats_cold`` is the share of (crop, head) pairs where
  the hottest cost the logit more than the coldest.
- pasted patch: 48 px of another face's eye region pasted at a random place, the head aligned with the
  feature change; ``peak_in_patch`` is the share of maps whose maximum lies in the patch,
  ``mass_in_patch`` the mean share of the map's sum there (the patch is 4.6 % of the crop).

    python -m benchmarks.vit_heatmaps [--crops 20] [--repeats 5] [--skip-faithfulness]
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional

from benchmarks.common import median, report
from faces.crops import FaceImages
from faces.detector import FaceDetector
from models.clip.weights import MEAN, STD
from models.preprocess import crop_input
from models.spec import ModelSpec
from realtime.sources.demo import render_face_frames
from services.scan.explain import cut
from services.scan.token_relevance import STREAMS, TokenRelevance

SHARED_STILLS = Path(__file__).resolve().parents[2] / "shared" / "data" / "images_real"
SPEC = ModelSpec(
    architecture="clip_vit_b16_probe",
    backbone="clip_vit_b16",
    input_size=224,
    mean=MEAN,
    std=STD,
    window=4,
    token_summaries="cls12",
    crops_per_second=2.0,
)
OCCLUDED = 20  # of 196 patches


def face_crop(image: np.ndarray) -> np.ndarray | None:
    """The engine's crop of the largest face (at least 80 px) in an RGB image."""
    faces = FaceDetector().detect(image)
    if not faces or faces[0].box.width < 80:
        return None
    box = faces[0].box
    bounds = (box.left, box.top, box.right, box.bottom)
    return cut(image, 0, [bounds], SPEC)[(0, bounds)].crop


def tensor(crops: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(crop_input(crops, MEAN, STD))


def set_head(model: torch.nn.Module, direction: torch.Tensor) -> None:
    with torch.no_grad():
        model.head.linear.weight.copy_(functional.normalize(direction, dim=0)[None])
        model.head.linear.bias.zero_()


def timed(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(median(times), 3)


def measure_cost(repeats: int) -> tuple[torch.nn.Module, dict]:
    from models.registry import build_model

    started = time.perf_counter()
    model = build_model(SPEC).eval()
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    explainer = TokenRelevance(model, SPEC, torch.device("cpu"))
    explainer_s = time.perf_counter() - started
    frame = render_face_frames(1)[0]
    faces = [FaceImages(face_crop(frame))]
    batch = tensor([faces[0].crop])
    explainer(faces)  # warm-up
    with torch.no_grad():
        model.embed(batch)
    with torch.no_grad():
        forward_s = timed(lambda: model.embed(batch), repeats)
    heatmap_s = timed(lambda: explainer(faces), repeats)
    return model, {
        "probe_build_s": round(build_s, 2),
        "explainer_build_s": round(explainer_s, 2),
        "torch_forward_per_crop_s": forward_s,
        "heatmap_per_window_s": heatmap_s,
        "heatmap_over_forward": round(heatmap_s / forward_s, 2),
    }


class Maps:
    """The three maps (14 x 14) of a crop in one pass, on a copy of the probe whose head :meth:`aim` sets."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.layers = list(self.model.tower.blocks)[-STREAMS:]
        self.layers[-1].attn.fused_attn = False  # the attention matrix written out, so a hook sees it

    def aim(self, direction: torch.Tensor) -> None:
        set_head(self.model, direction)

    def __call__(self, crop: np.ndarray) -> dict[str, np.ndarray]:
        streams: list[torch.Tensor] = []
        captured: dict[str, torch.Tensor] = {}

        def keep(_module, _inputs, output):
            if streams:
                streams.append(output)
                return None
            streams.append(output.detach().requires_grad_(True))
            return streams[0]

        def attention(_module, _inputs, output):
            captured["attention"] = output

        handles = [layer.register_forward_hook(keep) for layer in self.layers]
        handles.append(self.layers[-1].attn.attn_drop.register_forward_hook(attention))
        try:
            with torch.enable_grad():
                logit = self.model.score_features(self.model.embed(tensor([crop]))[:, None]).sum()
                gradients = torch.autograd.grad(logit, [*streams, captured["attention"]])
        finally:
            for handle in handles:
                handle.remove()
        token_gradient = sum((g * s.detach()).sum(dim=-1) for g, s in zip(gradients[:-1], streams, strict=True))
        entering, gradient = streams[-2].detach()[0, 1:], gradients[-3][0, 1:]  # the stream the last block reads
        grad_cam = (gradient.mean(dim=0) * entering).sum(dim=-1)
        weights = captured["attention"].detach()[0]
        grad_attention = (gradients[-1][0] * weights).clamp(min=0).mean(dim=0)[0, 1:]
        grids = {
            "token-gradient": token_gradient[0, 1:],
            "grad-cam-tokens": grad_cam,
            "gradient-x-attention": grad_attention,
        }
        return {name: torch.relu(grid).reshape(14, 14).numpy() for name, grid in grids.items()}


def occlude(crop: np.ndarray, cells: np.ndarray) -> np.ndarray:
    blurred = cv2.GaussianBlur(crop, (0, 0), 8)
    out = crop.copy()
    for cell in cells:
        rows, cols = (slice(16 * c, 16 * c + 16) for c in divmod(int(cell), 14))
        out[rows, cols] = blurred[rows, cols]
    return out


def measure_faithfulness(model: torch.nn.Module, count: int) -> dict:
    crops = []
    for path in sorted(SHARED_STILLS.iterdir()):
        image = cv2.imread(str(path))
        crop = face_crop(np.ascontiguousarray(image[:, :, ::-1])) if image is not None else None
        if crop is not None:
            crops.append(crop)
        if len(crops) == count:
            break
    with torch.no_grad():
        features = functional.normalize(model.embed(tensor(crops)), dim=-1)
    components = torch.linalg.svd(features - features.mean(dim=0), full_matrices=False).Vh[:3]
    maps = Maps(model)
    maps.aim(components[0])
    scan_map = TokenRelevance(maps.model, SPEC, torch.device("cpu"))([FaceImages(crops[0])])[0]
    ours = cv2.resize(maps(crops[0])["token-gradient"], (224, 224), interpolation=cv2.INTER_CUBIC)
    agreement = float(np.corrcoef(scan_map.ravel(), ours.ravel())[0, 1])  # the scan's maps are these
    occlusion: dict[str, list[bool]] = {}
    for direction in components:
        maps.aim(direction)
        for crop, feature in zip(crops, features, strict=True):
            base = float(feature @ functional.normalize(direction, dim=0))
            found = maps(crop)
            candidates = []
            for grid in found.values():
                order = np.argsort(grid.ravel())
                candidates += [occlude(crop, order[-OCCLUDED:]), occlude(crop, order[:OCCLUDED])]
            with torch.no_grad():
                logits = maps.model.score_features(maps.model.embed(tensor(candidates))[:, None]).numpy()
            for position, name in enumerate(found):
                hot, cold = logits[2 * position], logits[2 * position + 1]
                occlusion.setdefault(name, []).append(base - hot > base - cold)
    rng = np.random.default_rng(0)
    peaks: dict[str, list[bool]] = {}
    mass: dict[str, list[float]] = {}
    for position, crop in enumerate(crops):
        row, col = rng.integers(1, 10, 2) * 16
        pasted = crop.copy()
        pasted[row : row + 48, col : col + 48] = crops[(position + 3) % len(crops)][80:128, 60:108]
        with torch.no_grad():
            before, after = functional.normalize(model.embed(tensor([crop, pasted])), dim=-1)
        maps.aim(after - before)
        inside = np.zeros((14, 14), bool)
        inside[row // 16 : row // 16 + 3, col // 16 : col // 16 + 3] = True
        for name, grid in maps(pasted).items():
            peaks.setdefault(name, []).append(bool(inside.ravel()[grid.argmax()]))
            mass.setdefault(name, []).append(float(grid[inside].sum() / max(grid.sum(), 1e-12)))
    return {
        "crops": len(crops),
        "scan_map_correlation": round(agreement, 4),
        "methods": {
            name: {
                "occlusion_hot_beats_cold": round(float(np.mean(occlusion[name])), 2),
                "occlusion_pairs": len(occlusion[name]),
                "pasted_peak_in_patch": round(float(np.mean(peaks[name])), 2),
                "pasted_mass_in_patch": round(float(np.mean(mass[name])), 2),
            }
            for name in occlusion
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-faithfulness", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, cost = measure_cost(args.repeats)
    # Other processes on the machine slow every figure alike: the load says how quiet it was.
    result: dict = {"threads": args.threads, "load_average_1min": round(os.getloadavg()[0], 2), "cost": cost}
    if args.skip_faithfulness:
        result["faithfulness"] = "skipped (--skip-faithfulness)"
    elif not SHARED_STILLS.is_dir():
        result["faithfulness"] = f"skipped: {SHARED_STILLS} is absent"
    else:
        result["faithfulness"] = measure_faithfulness(model, args.crops)
    report("vit_heatmaps", result)


if __name__ == "__main__":
    main()
