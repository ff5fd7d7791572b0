"""Backbone cost per crop: torch on cpu (and cuda with fp16 + channels_last when present),
and ONNX Runtime on cpu, at batch 1 and batched, for every backbone in the registry; and the shipped
detector's CLIP ViT-B/16 tower as the engine runs it on a CPU (its cached float graph, ONNX Runtime,
the engine's session settings) with 1 thread and with every core."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import median, report
from models.backbones import build_backbone
from models.onnx_runtime import onnx_session
from realtime.engine import load_onnx_detector

CASES = [("efficientnet_lite0", 128), ("efficientnet_lite0", 224), ("resnext50_32x4d", 112)]


def time_calls(call, batch: torch.Tensor, runs: int) -> float:
    """Median seconds per call after two warm-up calls."""
    for _ in range(2):
        call(batch)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call(batch)
        times.append(time.perf_counter() - started)
    return median(times)


def torch_case(model: torch.nn.Module, size: int, batch_size: int, device: str, runs: int) -> dict:
    half = device == "cuda"
    model = model.to(device)
    if half:
        model = model.half().to(memory_format=torch.channels_last)
    batch = torch.rand(batch_size, 3, size, size, device=device, dtype=torch.float16 if half else torch.float32)

    @torch.inference_mode()
    def call(x: torch.Tensor) -> None:
        model(x)
        if device == "cuda":
            torch.cuda.synchronize()

    seconds = time_calls(call, batch, runs)
    return {"ms_per_crop": round(seconds * 1000 / batch_size, 2), "crops_per_s": round(batch_size / seconds, 1)}


def onnx_case(model: torch.nn.Module, size: int, batch_size: int, threads: int, runs: int) -> dict | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "backbone.onnx"
        sample = torch.rand(1, 3, size, size)
        torch.onnx.export(
            model.cpu(), sample, str(path), input_names=["crops"], dynamic_axes={"crops": {0: "n"}}, dynamo=False
        )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    batch = torch.rand(batch_size, 3, size, size).numpy()
    seconds = time_calls(lambda x: session.run(None, {"crops": x}), batch, runs)
    return {"ms_per_crop": round(seconds * 1000 / batch_size, 2), "crops_per_s": round(batch_size / seconds, 1)}


def clip_tower_rows(runs: int) -> list[dict]:
    """ms per 224 px crop through the shipped detector's CLIP graph, by threads and batch size."""
    detector = load_onnx_detector(None)
    size = detector.spec.input_size
    rows = []
    for threads in sorted({1, os.cpu_count() or 1}):
        session = onnx_session(detector.embed_model(), threads)
        name = session.get_inputs()[0].name
        for batch_size in (1, 4):
            batch = np.random.default_rng(0).standard_normal((batch_size, 3, size, size), dtype=np.float32)
            seconds = time_calls(lambda x, run=session.run, name=name: run(None, {name: x}), batch, runs)
            rows.append(
                {
                    "backbone": detector.spec.backbone,
                    "readings": detector.spec.token_summaries,
                    "input_px": size,
                    "threads": threads,
                    "batch": batch_size,
                    "onnxruntime_cpu": {
                        "ms_per_crop": round(seconds * 1000 / batch_size, 1),
                        "crops_per_s": round(batch_size / seconds, 2),
                    },
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (the engine uses cores - 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = []
    for name, size in CASES:
        model = build_backbone(name, pretrained=False).eval()
        for batch_size in (1, 16):
            row = {"backbone": name, "input_px": size, "batch": batch_size}
            row["torch_cpu"] = torch_case(model, size, batch_size, "cpu", args.runs)
            row["onnxruntime_cpu"] = onnx_case(model, size, batch_size, args.threads, args.runs)
            if torch.cuda.is_available():
                row["torch_cuda_fp16"] = torch_case(model, size, batch_size, "cuda", args.runs)
                model = model.float().cpu()
            results.append(row)
    clip = clip_tower_rows(max(3, args.runs // 2))
    report("backbone", {"threads": args.threads, "results": results, "clip_tower": clip})


if __name__ == "__main__":
    main()
