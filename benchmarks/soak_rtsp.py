"""Soak: several loopback RTSP streams for minutes, one server killed and restarted midway.

Reports, per stream, verdict gaps outside the outage (target: none), reconnect time of the
killed stream, frames dropped, and the process's RSS over time (target: flat).
Not part of the test run: `python -m benchmarks.soak_rtsp --minutes 10`.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

from benchmarks.common import bench_cache, clip_720p, report
from realtime.config import EngineConfig
from realtime.engine import build_engine
from realtime.frames import Verdict
from tests.support.rtsp import RtspServer

GAP_S = 1.5  # two verdicts of one stream further apart than this count as a gap


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--outage-s", type=float, default=5.0, help="how long the killed server stays down")
    parser.add_argument("--model", type=Path)
    args = parser.parse_args()
    clip = clip_720p(bench_cache() / "soak_640x360.mp4", seconds=10, width=640, height=360)
    servers = [RtspServer(clip, loop=True) for _ in range(args.streams)]
    for server in servers:
        server.start()
    config = EngineConfig(read_timeout_s=3.0, reconnect_attempts=20, reconnect_max_delay_s=2.0)
    engine = build_engine(config, args.model)
    arrivals: dict[str, list[float]] = {server.url: [] for server in servers}
    statuses: list[tuple[float, str, dict]] = []
    started = time.monotonic()

    def on_verdict(verdict: Verdict) -> None:
        arrivals[verdict.source].append(time.monotonic() - started)

    sources = [
        engine.open_source(
            server.url,
            on_status=lambda record, url=server.url: statuses.append((time.monotonic() - started, url, record)),
        )
        for server in servers
    ]
    pipeline = engine.pipeline(sources, on_verdict)
    rss_samples: list[tuple[float, float]] = []
    duration_s = args.minutes * 60
    victim = servers[0]
    victim_url = victim.url
    outage: list[float] = []
    pipeline.start()
    try:
        while (elapsed := time.monotonic() - started) < duration_s:
            rss_samples.append((round(elapsed, 1), round(rss_mb(), 1)))
            if not outage and elapsed >= duration_s / 2:
                victim.kill()
                outage.append(time.monotonic() - started)
                time.sleep(args.outage_s)
                victim.start()
                outage.append(time.monotonic() - started)
            time.sleep(5.0)  # RSS sampling period
    finally:
        pipeline.stop()
        pipeline.join()
        for server in servers:
            server.stop()
    per_stream = {}
    for index, times in enumerate(arrivals.values()):
        gaps = [(a, b) for a, b in itertools.pairwise(times) if b - a > GAP_S]
        if index == 0 and outage:
            gaps = [(a, b) for a, b in gaps if b < outage[0] or a > outage[1] + 15.0]
        per_stream[f"stream{index}"] = {
            "verdicts": len(times),
            "verdict_gaps_outside_outage": len(gaps),
            "longest_gap_s": round(max((b - a for a, b in gaps), default=0.0), 2),
        }
    reconnected = [t for t, url, record in statuses if url == victim_url and record.event == "reconnected"]
    stats = pipeline.stats()
    warm = [rss for t, rss in rss_samples if t >= 60] or [rss for _, rss in rss_samples]
    report(
        "soak_rtsp",
        {
            "streams": args.streams,
            "minutes": args.minutes,
            "outage_s": args.outage_s,
            "reconnect_after_server_back_s": round(reconnected[0] - outage[1], 2) if reconnected and outage else None,
            "per_stream": per_stream,
            "frames_dropped": [s.frames_dropped for s in stats],
            "frames_read": [s.frames_read for s in stats],
            "rss_mb_first_minute_end": warm[0],
            "rss_mb_end": rss_samples[-1][1],
            "rss_growth_mb_after_first_minute": round(max(warm) - warm[0], 1),
            "rss_samples": rss_samples[:: max(1, len(rss_samples) // 40)],
        },
    )


if __name__ == "__main__":
    main()
