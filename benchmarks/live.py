"""End to end, live: a 720p30 source paced in real time (a file with --realtime, or the
loopback RTSP server), through faces and the model to verdicts.

Reports source fps, frames dropped, verdicts per second per face, capture->verdict latency
percentiles, CPU use and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from benchmarks.common import bench_cache, clip_720p, median, peak_rss_mb, percentile, report
from models.registry import load_default_model, load_model
from realtime.config import EngineConfig
from realtime.inference import make_scorer, select_device
from realtime.pipeline import Pipeline
from realtime.sources.av_source import AvSource
from realtime.sources.demo import demo_cache_dir, render_face_frames, write_video


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def faces_clip(path: Path, faces: int, seconds: float) -> Path:
    """720p30 with ``faces`` copies of the portrait side by side (one face: the gliding clip)."""
    import numpy as np

    if faces == 1:
        return clip_720p(path, seconds=seconds)
    if not path.is_file():
        frames = render_face_frames(round(seconds * 30), width=1280 // faces, height=720)
        write_video(path, [np.concatenate([f] * faces, axis=1) for f in frames], fps=30)
    return path


def run_once(source: AvSource, config: EngineConfig, model_path: Path | None) -> dict:
    loaded = load_model(model_path) if model_path else load_default_model()
    device = select_device(config.device)
    scorer = make_scorer(loaded, device, config.runtime, config.resolved_torch_threads(), demo_cache_dir() / "onnx")
    verdicts = []
    pipeline = Pipeline([source], loaded, scorer, config, verdicts.append)
    cpu_before, started = cpu_seconds(), time.monotonic()
    pipeline.start()
    pipeline.wait()
    pipeline.join()
    wall = time.monotonic() - started
    cpu = cpu_seconds() - cpu_before
    stats = pipeline.stats()[0]
    per_face = {}
    for verdict in verdicts:
        per_face.setdefault(verdict.track_id, []).append(verdict)
    rates = [len(vs) / max(vs[-1].end_pts_s - vs[0].end_pts_s, 1e-6) for vs in per_face.values() if len(vs) > 1]
    latencies = [v.latency_ms for v in verdicts]
    return {
        "source_fps": round(stats.frames_read / wall, 2),
        "frames_read": stats.frames_read,
        "frames_dropped": stats.frames_dropped,
        "dropped_share": round(stats.frames_dropped / max(stats.frames_read, 1), 4),
        "faces": len(per_face),
        "verdicts_per_s_per_face": round(median(rates), 2) if rates else 0.0,
        "latency_ms_p50": percentile(latencies, 0.5),
        "latency_ms_p95": percentile(latencies, 0.95),
        "latency_ms_p99": percentile(latencies, 0.99),
        "cpu_percent_of_one_core": round(100 * cpu / wall, 1),
        "runtime": scorer.runtime,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--faces", type=int, default=1)
    parser.add_argument("--rtsp", action="store_true", help="stream through the loopback RTSP server")
    parser.add_argument("--model", type=Path)
    parser.add_argument("--detect-every", type=int, default=EngineConfig.detect_every)
    parser.add_argument("--stride", type=int, default=EngineConfig.stride)
    parser.add_argument("--runtime", default=EngineConfig.runtime)
    args = parser.parse_args()
    clip = faces_clip(bench_cache() / f"live_{args.faces}faces_{int(args.seconds)}s.mp4", args.faces, args.seconds)
    config = EngineConfig(detect_every=args.detect_every, stride=args.stride, runtime=args.runtime, realtime=True)
    runs = []
    for _ in range(args.runs):
        if args.rtsp:
            from tests.support.rtsp import RtspServer

            with RtspServer(clip) as server:
                runs.append(run_once(AvSource(server.url, live=True), config, args.model))
        else:
            runs.append(run_once(AvSource(str(clip), live=False, realtime=True), config, args.model))
    summary = {key: median([r[key] for r in runs]) for key in runs[0] if isinstance(runs[0][key], int | float)}
    name = f"live_{'rtsp' if args.rtsp else 'file'}_{args.faces}face"
    report(
        name,
        {
            "source": "rtsp loopback" if args.rtsp else "file --realtime",
            "resolution": "1280x720@30",
            "seconds": args.seconds,
            "settings": {"detect_every": args.detect_every, "stride": args.stride, "runtime": runs[0]["runtime"]},
            "median_of_runs": summary,
            "runs": runs,
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
    )


if __name__ == "__main__":
    main()
