"""Folder scan throughput: seconds of video per wall second, local scan vs Ray (one task per file).

Generates ``--clips`` one-face clips, then scans the folder twice through run_scan exactly as
``run_live.py --source DIR --scan`` runs it: on this machine (threads, the default) and with
``--backend ray`` on a local Ray started here (each task reserving ``--ray-threads`` CPUs, so
cores / ray-threads files at once). Ray's start-up is timed apart and reported both ways, since a
long-lived cluster pays it once. Prints one JSON object and writes benchmarks/results/scan_folder.json.

    .venv/bin/python -m benchmarks.scan_folder [--clips 8] [--seconds 6] [--width 1280 --height 720]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import report


def make_clips(folder: Path, count: int, seconds: float, width: int, height: int, fps: int = 30) -> float:
    """``count`` different one-face clips in ``folder``; their total length in seconds."""
    from realtime.sources.demo import render_face_frames, write_video

    frames = render_face_frames(round(seconds * fps), width=width, height=height)
    for number in range(count):
        shift = number * len(frames) // count  # each clip starts elsewhere in the glide
        write_video(folder / f"clip{number:03d}.mp4", frames[shift:] + frames[:shift], fps=fps)
    return count * len(frames) / fps


def scan(folder: Path, out: Path, extra: list[str]) -> dict[str, Any]:
    """One folder scan through run_scan; its wall time and how the files came out."""
    from app.cli import build_parser, config_from_args
    from app.scan import run_scan

    args = build_parser().parse_args(["--source", str(folder), "--scan", "--out", str(out), *extra])
    lines = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(lines):
        code = run_scan(args.source, args.model, config_from_args(args), args)
    wall_s = time.monotonic() - started
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    if code != 0 or any(record["status"] != "scanned" for record in records):
        raise SystemExit(f"scan failed (exit {code}): {records}")
    return {"wall_s": round(wall_s, 2), "files": len(records)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each clip")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--model", type=Path, help="checkpoint (default: the shipped detector)")
    parser.add_argument("--ray-threads", type=int, default=1, help="CPUs (and inference threads) per Ray task")
    parser.add_argument("--explain", type=int, default=4, help="heatmaps per report (scan default: 4)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import ray

    from services.ray_cluster import runtime_env

    common = ["--explain", str(args.explain), *(["--model", str(args.model)] if args.model else [])]
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir) / "videos"
        folder.mkdir()
        video_s = make_clips(folder, args.clips, args.seconds, args.width, args.height)
        local = scan(folder, Path(workdir) / "local", common)
        started = time.monotonic()
        ray.init(include_dashboard=False, runtime_env=runtime_env(None), log_to_driver=False)
        startup_s = time.monotonic() - started
        cpus = int(ray.cluster_resources().get("CPU", 1))
        on_ray_flags = [*common, "--backend", "ray", "--threads", str(args.ray_threads)]
        try:
            on_ray = scan(folder, Path(workdir) / "ray", on_ray_flags)
        finally:
            ray.shutdown()
    local["video_s_per_wall_s"] = round(video_s / local["wall_s"], 3)
    on_ray.update(
        startup_s=round(startup_s, 2),
        files_at_once=max(1, cpus // args.ray_threads),
        video_s_per_wall_s=round(video_s / on_ray["wall_s"], 3),
        video_s_per_wall_s_with_startup=round(video_s / (on_ray["wall_s"] + startup_s), 3),
    )
    report(
        "scan_folder",
        {
            "clips": args.clips,
            "clip": f"generated {args.width}x{args.height} 30 fps, one face, {args.seconds:g} s",
            "video_s": round(video_s, 2),
            "explanations": args.explain,
            "local": local,
            "ray": on_ray,
        },
    )


if __name__ == "__main__":
    main()
