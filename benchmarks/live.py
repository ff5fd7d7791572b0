"""End to end, live: a 720p30 clip paced in real time (a file with --realtime, or the loopback RTSP
server), through faces and the model to verdicts.

Reports frames dropped, verdicts per second per face, capture->verdict latency percentiles, CPU use
and peak RSS, medians of ``--runs``. Clips come from ``benchmarks.clips``: real footage from
../shared/data (one face, four faces), or the generated clip.

    python -m benchmarks.live --clip real_720p_1face [--rtsp]
"""

from __future__ import annotations

import argparse
import itertools
import resource
import time
from pathlib import Path

from benchmarks.clips import SharedDataMissing, bench_clip, decode_seconds, describe
from benchmarks.common import clip_720p, median, peak_rss_mb, percentile, report
from realtime.config import EngineConfig
from realtime.engine import build_engine
from realtime.sources.av_source import AvSource
from realtime.sources.demo import render_face_frames, write_video


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def faces_clip(path: Path, faces: int, seconds: float) -> Path:
    """720p30 with ``faces`` copies of the generated portrait side by side (one face: the gliding clip)."""
    import numpy as np

    if faces == 1:
        return clip_720p(path, seconds=seconds)
    if not path.is_file():
        frames = render_face_frames(round(seconds * 30), width=1280 // faces, height=720)
        write_video(path, [np.concatenate([f] * faces, axis=1) for f in frames], fps=30)
    return path


def run_once(source: AvSource, config: EngineConfig, model_path: Path | None) -> dict:
    engine = build_engine(config, model_path)
    verdicts = []
    pipeline = engine.pipeline([source], verdicts.append)
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
    # Every face of the benchmark clips is on screen for the whole clip: a face's rate is its verdicts over
    # the clip's length, and its longest unscored gap runs from the clip's start, between its verdicts'
    # newest crops, to the clip's end (a face scored only when the stream ended shows as such).
    length = stats.frames_read / source.fps if source.fps else max(v.end_pts_s for v in verdicts)
    rates = [len(vs) / length for vs in per_face.values()]
    gaps = [
        max(b - a for a, b in itertools.pairwise([0.0, *(v.end_pts_s for v in vs), length])) for vs in per_face.values()
    ]
    latencies = [v.latency_ms for v in verdicts]
    return {
        "source_fps": round(stats.frames_read / wall, 2),
        "frames_read": stats.frames_read,
        "frames_dropped": stats.frames_dropped,
        "dropped_share": round(stats.frames_dropped / max(stats.frames_read, 1), 4),
        "faces": len(per_face),
        "verdicts_per_s_per_face": round(median(rates), 2) if rates else 0.0,
        "slowest_face_verdicts_per_s": round(min(rates), 2) if rates else 0.0,
        "longest_unscored_gap_s": round(max(gaps), 3) if gaps else None,
        "latency_ms_p50": percentile(latencies, 0.5),
        "latency_ms_p95": percentile(latencies, 0.95),
        "latency_ms_p99": percentile(latencies, 0.99),
        "cpu_percent_of_one_core": round(100 * cpu / wall, 1),
        "runtime": engine.runtime,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clip", default="real_720p_1face", help="a clip of benchmarks.clips")
    parser.add_argument("--rtsp", action="store_true", help="stream through the loopback RTSP server")
    parser.add_argument("--model", type=Path)
    parser.add_argument("--detect-every", type=int, default=EngineConfig.detect_every)
    parser.add_argument("--stride", type=int, default=EngineConfig.stride)
    parser.add_argument("--runtime", default=EngineConfig.runtime)
    args = parser.parse_args()
    try:
        clip = bench_clip(args.clip, args.seconds)
    except SharedDataMissing as exc:
        report(f"live_{args.clip}", {"skipped": str(exc)})
        return
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
    name = f"live_{'rtsp' if args.rtsp else 'file'}_{args.clip}"
    report(
        name,
        {
            "source": "rtsp loopback" if args.rtsp else "file --realtime",
            "clip": describe(args.clip),
            "yardstick_ffmpeg_single_thread_decode_s": decode_seconds(clip),
            "seconds": args.seconds,
            "settings": {"detect_every": args.detect_every, "stride": args.stride, "runtime": runs[0]["runtime"]},
            "median_of_runs": summary,
            "runs": runs,
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
    )


if __name__ == "__main__":
    main()
