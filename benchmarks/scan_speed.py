"""Scan speed as a user runs it: ``run_live.py --source CLIP --scan --out DIR`` in a fresh process.

``total`` is the command's wall time, start-up, hashing, Grad-CAM and every report included;
``analysis`` is the engine's own time for the file (decode, faces, model), read from the report.
Both as seconds of video per wall second (4 = four times real time), medians of ``--repeats`` runs,
beside the yardstick: single-threaded FFmpeg decoding of the same clip. Clips: the real ones of
``benchmarks.clips`` (skipped with the reason when ../shared/data is absent) and the generated one.

    python -m benchmarks.scan_speed [--clips real_720p_1face real_1080p_1face] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.clips import SharedDataMissing, bench_clip, clip_seconds, decode_seconds, describe
from benchmarks.common import median, report

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIPS = ("real_720p_1face", "real_1080p_1face", "real_720p_4faces", "generated_720p_1face")


def scan_once(clip: Path, out: Path, extra: list[str]) -> dict[str, float]:
    """One scan in a fresh process: its wall time, the engine's time for the file, its peak memory."""
    command = [sys.executable, str(REPO_ROOT / "run_live.py"), "--source", str(clip), "--scan", "--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([*command, *extra], capture_output=True, text=True, cwd=REPO_ROOT)
    wall_s = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"scan of {clip.name} failed: {done.stderr.strip()[-400:]}")
    scan_line = json.loads(done.stdout.splitlines()[-1])
    report_data = json.loads(Path(scan_line["report"]).read_text())
    video_s = float(report_data["file"]["duration_s"])
    analysis_s = float(report_data["run"]["elapsed_s"])
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024.0
    return {
        "video_s": round(video_s, 2),
        "total_wall_s": round(wall_s, 2),
        "total_video_s_per_wall_s": round(video_s / wall_s, 2),
        "analysis_wall_s": round(analysis_s, 2),
        "analysis_video_s_per_wall_s": round(video_s / analysis_s, 2),
        "windows": report_data["run"]["windows_scored"],
        "faces": report_data["result"]["faces_seen"],
        "runtime": report_data["run"]["runtime"],
        "peak_rss_mb_upper_bound": round(peak_mb, 1),
    }


def result_name(extra: list[str]) -> str:
    """The result file's name: extra flags get a file of their own, so they never overwrite the plain scan's."""
    suffix = re.sub(r"[^a-z0-9]+", "", "".join(extra).lower())
    return f"scan_speed_{suffix}" if suffix else "scan_speed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="+", default=list(DEFAULT_CLIPS))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more run_live.py flags after --, e.g. -- --sample-every 2")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    results, skipped = {}, {}
    for name in args.clips:
        try:
            clip = bench_clip(name, args.seconds)
        except SharedDataMissing as exc:
            skipped[name] = str(exc)
            continue
        with tempfile.TemporaryDirectory() as workdir:
            scan_once(clip, Path(workdir) / "warm", args.extra)  # the ONNX export, if any, is made once
            runs = [scan_once(clip, Path(workdir) / str(n), args.extra) for n in range(args.repeats)]
        figures = [key for key, value in runs[0].items() if isinstance(value, int | float)]
        results[name] = {
            "clip": describe(name),
            "seconds": round(clip_seconds(clip), 2),
            "yardstick_ffmpeg_single_thread_decode_s": decode_seconds(clip),
            "median_of_runs": {key: median([run[key] for run in runs]) for key in figures},
            "runtime": runs[0]["runtime"],
            "runs": runs,
        }
    report(
        result_name(args.extra),
        {
            "command": "run_live.py --source CLIP --scan --out DIR " + " ".join(args.extra),
            "clips": results,
            "skipped": skipped,
        },
    )


if __name__ == "__main__":
    main()
