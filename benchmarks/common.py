"""What every benchmark shares: the machine description, test clips, medians, the results file."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """Cores, CPU model and GPU, so figures can be compared across machines."""
    cpu_model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu_model, "gpu": gpu, "python": platform.python_version()}


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (``fraction`` in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far.

    Read from VmHWM, which a new program starts afresh: ``ru_maxrss`` of a child started by
    subprocess still counts the parent's peak at fork time (a parent holding a rendered clip).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def clip_720p(path: Path, seconds: float = 10.0, width: int = 1280, height: int = 720, fps: int = 30) -> Path:
    """A one-face H.264 clip of the given size (generated once, then reused)."""
    from realtime.sources.demo import render_face_frames, write_video

    if not path.is_file():
        write_video(path, render_face_frames(round(seconds * fps), width=width, height=height), fps=fps)
    return path


def bench_cache() -> Path:
    from common.paths import cache_dir

    return cache_dir() / "bench"


def report(name: str, result: dict[str, Any]) -> None:
    """Prints the JSON object and writes it to benchmarks/results/<name>.json."""
    payload = {"benchmark": name, "machine": machine(), **result}
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    json.dump(payload, sys.stdout)
    sys.stdout.write("\n")
