"""Scan speed: seconds of video analysed per wall second, and peak memory, for a 720p30 one-face clip.

Generates the clip (the astronaut portrait gliding over a 1280x720 background), then scans it
with every frame (``--scan``'s default) and with every 2nd frame, each run in a fresh process so its
peak RSS is its own, ``--repeats`` times; the figures are medians. Prints one JSON object. Reports,
the plot and Grad-CAM are included in ``total`` and left out of ``analysis`` (the engine alone).

    .venv/bin/python -m benchmarks.scan_speed [--model ckpt.pt] [--seconds 30] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(clip: Path, model: Path | None, sample_every: int, threads: int, out: Path) -> dict[str, object]:
    """One scan of ``clip`` in this process (the child's job)."""
    import torch

    from benchmarks.common import peak_rss_mb
    from models.checkpoint import file_sha256
    from models.registry import DEFAULT_CHECKPOINT, load_default_model, load_model
    from realtime.config import EngineConfig
    from realtime.inference import make_scorer, select_device
    from realtime.scan.cli import DEFAULT_EXPLANATIONS, scan_engine_config
    from realtime.scan.report_json import ModelIdentity
    from realtime.scan.reports import report_paths
    from realtime.scan.runner import Scanner
    from realtime.sources.demo import demo_cache_dir

    torch.set_num_threads(threads)
    loaded = load_model(model) if model else load_default_model()
    checkpoint = model or (DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None)
    identity = ModelIdentity(loaded.source, file_sha256(checkpoint) if checkpoint else None, loaded.spec)
    device = select_device("auto")
    config = scan_engine_config(EngineConfig(torch_threads=threads, sample_every=sample_every), device.type)
    scorer = make_scorer(loaded, device, config.runtime, threads, demo_cache_dir() / "onnx")
    scanner = Scanner(loaded, scorer, identity, config, DEFAULT_EXPLANATIONS, rescan=True)
    started = time.monotonic()
    outcome = scanner.scan(clip, report_paths(clip, out))
    total_s = time.monotonic() - started
    if outcome.status != "scanned":
        raise SystemExit(f"scan failed: {outcome.error}")
    video_s = outcome.report["file"]["duration_s"]
    return {
        "sample_every": sample_every,
        "video_s": video_s,
        "analysis_wall_s": round(outcome.result.elapsed_s, 2),
        "analysis_video_s_per_wall_s": round(video_s / outcome.result.elapsed_s, 3),
        "total_wall_s": round(total_s, 2),
        "total_video_s_per_wall_s": round(video_s / total_s, 3),
        "windows": len(outcome.result.verdicts),
        "video_p_fake": outcome.report["result"]["video_p_fake"],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "model": loaded.source,
        "trained": loaded.spec.trained,
        "device": str(device),
        "runtime": scorer.runtime,
        "torch_threads": threads,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="checkpoint (default: the shipped detector, else untrained)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the generated clip")
    parser.add_argument("--repeats", type=int, default=3, help="runs per setting (figures are medians)")
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    parser.add_argument("--child", nargs=2, metavar=("CLIP", "SAMPLE_EVERY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    with tempfile.TemporaryDirectory() as workdir:
        if args.child:
            result = measure(Path(args.child[0]), args.model, int(args.child[1]), args.threads, Path(workdir))
            print(json.dumps(result))
            return 0
        from realtime.sources.demo import render_face_frames, write_video

        clip = write_video(
            Path(workdir) / "one_face_720p30.mp4", render_face_frames(round(args.seconds * 30), 1280, 720), fps=30
        )
        runs = []
        for sample_every in [1] * args.repeats + [2] * args.repeats:
            command = [
                sys.executable,
                __file__,
                "--child",
                str(clip),
                str(sample_every),
                "--threads",
                str(args.threads),
            ]
            if args.model:
                command += ["--model", str(args.model)]
            child = subprocess.run(command, capture_output=True, text=True, check=True)
            runs.append(json.loads(child.stdout.splitlines()[-1]))
    from benchmarks.common import median, report  # the parent runs as `python -m benchmarks.scan_speed`

    figures = ("analysis_video_s_per_wall_s", "total_video_s_per_wall_s", "total_wall_s", "peak_rss_mb")
    medians = {
        f"sample_every_{every}": {
            name: median([run[name] for run in runs if run["sample_every"] == every]) for name in figures
        }
        for every in (1, 2)
    }
    clip_name = f"generated 1280x720 30 fps, one face, {args.seconds:g} s"
    report("scan_speed", {"clip": clip_name, "median_of_runs": medians, "runs": runs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
