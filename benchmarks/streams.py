"""Many streams on one machine: how many 720p30 one-face streams stay real time, threads vs Ray.

Every stream is the same 720p30 clip paced by its timestamps like a live feed (frames drop when
analysis falls behind). For N = 1, 2, ... streams, both backends run until the clips end; N is
real time when every stream dropped at most ``--max-dropped`` of its frames and the p95
capture-to-verdict latency stayed under ``--max-latency-ms``. CPU is that of this process and
every process it started (Ray's raylet, GCS and actor workers included), over the steady part of
the run (from the first verdict of the last stream to start, to the end), per stream, in percent
of one core. Prints one JSON object and writes benchmarks/results/streams.json.
"""

from __future__ import annotations

import argparse
import io
import os
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.clips import SharedDataMissing, bench_clip, decode_seconds, describe
from benchmarks.common import median, percentile, report
from realtime.config import EngineConfig
from realtime.engine import Detector, build_engine, load_engine_detector
from realtime.frames import Verdict
from realtime.output import JsonLinesWriter
from services.multistream.config import StreamSettings
from services.multistream.sinks import StreamSinks

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of ``root`` and all its living descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        total += times.get(pid, 0.0)
        pending.extend(children.get(pid, []))
    return total


class MeasuringSinks(StreamSinks):
    """Discards the JSON lines; keeps latencies and starts the CPU window at the last first verdict."""

    def __init__(self, streams: list[StreamSettings], loaded: Detector) -> None:
        super().__init__(streams, JsonLinesWriter(io.StringIO()), loaded.spec.trained, loaded.spec.threshold)
        self.latencies_ms: dict[str, list[float]] = {stream.name: [] for stream in streams}
        self.steady_from: tuple[float, float] | None = None  # (monotonic time, tree cpu seconds)
        self._started = threading.Lock()

    def verdict(self, verdict: Verdict) -> None:
        super().verdict(verdict)
        self.latencies_ms[verdict.source].append(verdict.latency_ms)
        with self._started:
            if self.steady_from is None and all(self.latencies_ms.values()):
                self.steady_from = (time.monotonic(), tree_cpu_s(os.getpid()))


def run_streams(backend: str, count: int, clip: Path, loaded: Detector, config: EngineConfig) -> dict[str, Any]:
    """Runs ``count`` paced copies of ``clip`` on ``backend``; their drops, latency and CPU cost."""
    streams = [StreamSettings(f"s{i}", str(clip)) for i in range(count)]
    sinks = MeasuringSinks(streams, loaded)
    if backend == "ray":
        from services.multistream.ray_backend import RayStreams

        runner: Any = RayStreams(streams, loaded, config, sinks)
    else:
        from services.multistream.local import ThreadStreams

        runner = ThreadStreams(streams, build_engine(config, detector=loaded), sinks)
    runner.start()
    runner.wait()
    ended, cpu_end = time.monotonic(), tree_cpu_s(os.getpid())
    runner.close()
    stats = runner.stats()
    dropped = [stats[s.name].frames_dropped / max(stats[s.name].frames_read, 1) for s in streams]
    latencies = [latency for values in sinks.latencies_ms.values() for latency in values]
    steady_s, cpu_s = (ended - sinks.steady_from[0], cpu_end - sinks.steady_from[1]) if sinks.steady_from else (0, 0)
    return {
        "streams": count,
        "frames_read_per_stream": median([stats[s.name].frames_read for s in streams]),
        "dropped_share_max": round(max(dropped), 4),
        "latency_ms_p50": percentile(latencies, 0.5),
        "latency_ms_p95": percentile(latencies, 0.95),
        "verdicts": len(latencies),
        "cpu_percent_of_one_core_per_stream": round(100 * cpu_s / max(steady_s, 1e-6) / count, 1) if steady_s else None,
        "runtime": runner.runtime,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the clip each stream plays")
    parser.add_argument("--max-streams", type=int, default=4)
    parser.add_argument("--backends", nargs="+", choices=["threads", "ray"], default=["threads", "ray"])
    parser.add_argument("--max-dropped", type=float, default=0.02, help="largest share of dropped frames")
    parser.add_argument("--max-latency-ms", type=float, default=1000.0, help="largest p95 latency")
    parser.add_argument("--model", type=Path)
    parser.add_argument("--runtime", default=EngineConfig.runtime)
    parser.add_argument("--clip", default="real_720p_1face", help="a clip of benchmarks.clips, one per stream")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        clip = bench_clip(args.clip, args.seconds)
    except SharedDataMissing as exc:
        report("streams", {"skipped": str(exc)})
        return
    config = EngineConfig(realtime=True, runtime=args.runtime)
    loaded = load_engine_detector(config, args.model)
    results: dict[str, Any] = {}
    for backend in args.backends:
        if backend == "ray":
            import ray

            from services.ray_cluster import runtime_env

            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, runtime_env=runtime_env(None))
        runs = []
        for count in range(1, args.max_streams + 1):
            run = run_streams(backend, count, clip, loaded, config)
            run["real_time"] = run["dropped_share_max"] <= args.max_dropped and (
                run["latency_ms_p95"] is not None and run["latency_ms_p95"] <= args.max_latency_ms
            )
            runs.append(run)
            if not run["real_time"]:
                break
        if backend == "ray":
            ray.shutdown()
        real_time = [run for run in runs if run["real_time"]]
        results[backend] = {
            "real_time_streams": max((run["streams"] for run in real_time), default=0),
            "cpu_percent_of_one_core_per_stream": real_time[-1]["cpu_percent_of_one_core_per_stream"]
            if real_time
            else None,
            "runs": runs,
        }
    report(
        "streams",
        {
            "source": "one copy of the clip per stream, paced like a live feed",
            "clip": describe(args.clip),
            "yardstick_ffmpeg_single_thread_decode_s": decode_seconds(clip),
            "seconds": args.seconds,
            "model": loaded.source,
            "criteria": {"dropped_share_max": args.max_dropped, "latency_ms_p95_max": args.max_latency_ms},
            "backends": results,
        },
    )


if __name__ == "__main__":
    main()
