"""The CLIP detector on a CUDA GPU: tower throughput by batch size, agreement with the CPU graph, live latency
of one 1080p30 stream, and how many 1080p30 streams one GPU serves (faces on the machine's CPU cores).

    python -m benchmarks.gpu_clip --clip real_1080p_1face.mp4 --reference clip_reference.npz --streams 1,4,8,16

``--reference`` holds real face crops and the features the CPU path (ONNX Runtime, float32) gives them
(``--make-reference`` writes it on a machine with ../shared/data). Streams are the same clip, each paced
at its frame rate like a camera; a stream count is served when no stream drops more than 1% of its frames.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.common import median, percentile, report
from realtime.config import EngineConfig
from realtime.engine import build_engine
from realtime.sources.av_source import AvSource

MAX_DROPPED = 0.01  # a stream count is served when every stream drops at most this share of its frames


def tower_throughput(device: str, batches: list[int], seconds: float) -> dict:
    """Crops per second through the fp16 tower (CUDA) or float32 (CPU), median of timed repeats per batch size."""
    import torch

    from models.clip.graph import parse_summaries
    from models.clip.torch_vit import build_tower

    tower = build_tower(parse_summaries("cls12")).to(device).eval()
    dtype = torch.float16 if device == "cuda" else torch.float32
    tower = tower.to(dtype)
    results = {}
    for batch in batches:
        x = torch.randn(batch, 3, 224, 224, device=device, dtype=dtype)
        with torch.inference_mode():
            for _ in range(3):
                tower(x)
            times = []
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline or len(times) < 3:
                if device == "cuda":
                    torch.cuda.synchronize()
                started = time.perf_counter()
                tower(x)
                if device == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - started)
        step = float(np.median(times))
        results[str(batch)] = {"ms_per_batch": round(step * 1000, 3), "crops_per_s": round(batch / step, 1)}
    return results


def agreement(device: str, reference: Path) -> dict:
    """Cosine between this device's features and the CPU graph's, on real face crops."""
    import torch

    from models.clip.graph import parse_summaries
    from models.clip.torch_vit import build_tower
    from models.clip.weights import MEAN, STD
    from models.preprocess import crop_input

    data = np.load(reference)
    tower = build_tower(parse_summaries("cls12")).to(device).eval()
    dtype = torch.float16 if device == "cuda" else torch.float32
    with torch.inference_mode():
        pixels = torch.from_numpy(crop_input(data["crops"], MEAN, STD)).to(device, dtype)
        features = tower.to(dtype)(pixels).float().cpu().numpy()
    cpu = data["features"]
    cosine = (features * cpu).sum(1) / np.linalg.norm(features, axis=1) / np.linalg.norm(cpu, axis=1)
    return {
        "crops": len(cpu),
        "min_cosine": round(float(cosine.min()), 5),
        "mean_cosine": round(float(cosine.mean()), 5),
    }


def run_streams(clip: Path, count: int, device: str) -> dict:
    """``count`` copies of the clip, each paced at its frame rate, through one engine on ``device``."""
    engine = build_engine(EngineConfig(device=device, realtime=True))
    verdicts = []
    sources = [AvSource(str(clip), live=False, realtime=True) for _ in range(count)]
    for number, source in enumerate(sources):
        source.name = f"stream{number}"
    pipeline = engine.pipeline(sources, verdicts.append)
    started = time.monotonic()
    pipeline.start()
    pipeline.wait()
    pipeline.join()
    wall = time.monotonic() - started
    stats = pipeline.stats()
    dropped = [s.frames_dropped / max(s.frames_read, 1) for s in stats]
    per_face: dict[tuple[str, int], list] = {}
    for verdict in verdicts:
        per_face.setdefault((verdict.source, verdict.track_id), []).append(verdict)
    rates = [len(vs) / max(vs[-1].end_pts_s - vs[0].end_pts_s, 1e-6) for vs in per_face.values() if len(vs) > 1]
    latencies = [v.latency_ms for v in verdicts]
    return {
        "streams": count,
        "wall_s": round(wall, 2),
        "frames_read": sum(s.frames_read for s in stats),
        "max_dropped_share": round(max(dropped), 4),
        "served": max(dropped) <= MAX_DROPPED,
        "faces": len(per_face),
        "verdicts_per_s_per_face": round(median(rates), 2) if rates else 0.0,
        "latency_ms_p50": percentile(latencies, 0.5),
        "latency_ms_p95": percentile(latencies, 0.95),
        "crops_embedded": pipeline.inference.crops_embedded,
        "device": engine.device,
        "runtime": engine.runtime,
    }


def make_reference(out: Path) -> None:
    """Real face crops of ../shared/data and their CPU-graph features (run where the data is)."""
    from models.clip.cache import ClipGraph
    from models.clip.graph import parse_summaries
    from models.clip.weights import MEAN, STD
    from models.onnx_runtime import onnx_session
    from models.preprocess import crop_input
    from tests.models.test_clip import real_face_crops

    crops = real_face_crops()
    session = onnx_session(str(ClipGraph(224, parse_summaries("cls12")).path()), 2)
    features = session.run(None, {"pixel_values": crop_input(crops, MEAN, STD)})[0]
    np.savez_compressed(out, crops=crops, features=features)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, help="the 1080p30 clip (benchmarks.clips real_1080p_1face)")
    parser.add_argument("--reference", type=Path, help="crops and CPU features (--make-reference)")
    parser.add_argument("--make-reference", type=Path, help="write the reference file and stop")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batches", default="1,32,256")
    parser.add_argument("--batch-seconds", type=float, default=3.0)
    parser.add_argument("--streams", default="1,4,8,16")
    args = parser.parse_args()
    if args.make_reference:
        make_reference(args.make_reference)
        return
    result: dict = {"device": args.device}
    result["tower_fp16" if args.device == "cuda" else "tower_fp32"] = tower_throughput(
        args.device, [int(b) for b in args.batches.split(",")], args.batch_seconds
    )
    if args.reference:
        result["agreement_with_cpu_graph"] = agreement(args.device, args.reference)
    if args.clip:
        runs = []
        for count in (int(n) for n in args.streams.split(",")):
            runs.append(run_streams(args.clip, count, args.device))
            print(runs[-1], flush=True)
        result["streams_1080p30"] = runs
        served = [run["streams"] for run in runs if run["served"]]
        result["most_streams_served"] = max(served, default=0)
    report(f"gpu_clip_{args.device}", result)


if __name__ == "__main__":
    main()
