"""Start-up as a user meets it: one image to its verdict, and the built-in demo to its first verdict line.

Each figure is the wall time of a fresh ``run_live.py --headless`` process (interpreter start,
imports, model set-up included), the median of several runs, beside the machine's yardstick
(single-threaded FFmpeg decode of the 20 s real 720p clip, or of the generated one without
../shared/data). The image is a real portrait from ../shared/data when present, else the demo's.

    python -m benchmarks.startup [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from benchmarks.clips import SharedDataMissing, bench_clip, decode_seconds, shared_file
from benchmarks.common import median, report

REPO_ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = "images_real/ageitgey__face_recognition__obama.jpg"


def portrait_image(folder: Path) -> tuple[Path, str]:
    """A face photo to score and where it came from."""
    try:
        return shared_file(PORTRAIT), f"{PORTRAIT} (../shared/data)"
    except SharedDataMissing:
        from realtime.sources.demo import portrait

        path = folder / "portrait.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(portrait(), cv2.COLOR_RGB2BGR))
        return path, "the demo's astronaut portrait (scikit-image), 220x220"


def command(*arguments: str) -> list[str]:
    return [sys.executable, str(REPO_ROOT / "run_live.py"), "--headless", *arguments]


def image_to_verdict(image: Path) -> float:
    """Wall seconds from process start to its exit with the image's verdict printed."""
    started = time.perf_counter()
    done = subprocess.run(command("--source", str(image)), capture_output=True, text=True, cwd=REPO_ROOT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or '"type": "verdict"' not in done.stdout:
        raise RuntimeError(f"no verdict for {image}: {done.stderr.strip()[-300:]}")
    return elapsed


def demo_first_verdict() -> float:
    """Wall seconds from process start to the demo's first verdict line on stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO_ROOT)
    try:
        for line in process.stdout:
            if line.startswith('{"type": "verdict"'):
                return time.perf_counter() - started
        raise RuntimeError("the demo printed no verdict")
    finally:
        process.kill()
        process.communicate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    with tempfile.TemporaryDirectory() as workdir:
        image, image_source = portrait_image(Path(workdir))
        image_to_verdict(image)  # warm: the demo clip and the ONNX export are made once, on first use
        demo_first_verdict()
        image_runs = [round(image_to_verdict(image), 3) for _ in range(args.runs)]
        demo_runs = [round(demo_first_verdict(), 3) for _ in range(args.runs)]
    try:
        yardstick_clip = "real_720p_1face"
        yardstick = decode_seconds(bench_clip(yardstick_clip))
    except SharedDataMissing:
        yardstick_clip = "generated_720p_1face"
        yardstick = decode_seconds(bench_clip(yardstick_clip))
    report(
        "startup",
        {
            "image": image_source,
            "image_to_verdict_s": median(image_runs),
            "demo_first_verdict_s": median(demo_runs),
            "yardstick": {"ffmpeg_single_thread_decode_s": yardstick, "clip": f"{yardstick_clip}, 20 s"},
            "runs": {"image_to_verdict_s": image_runs, "demo_first_verdict_s": demo_runs},
        },
    )


if __name__ == "__main__":
    main()
