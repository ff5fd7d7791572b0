"""Decode speed: frames/s of PyAV (threaded) and OpenCV on 720p30 and 1080p30 H.264 clips."""

from __future__ import annotations

import argparse
import threading
import time

import cv2

from benchmarks.common import bench_cache, clip_720p, median, report
from realtime.sources.av_source import AvSource


def pyav_fps(path: str) -> float:
    source = AvSource(path, live=False)
    source.open()
    started = time.perf_counter()
    count = sum(1 for _ in source.frames(threading.Event()))
    elapsed = time.perf_counter() - started
    source.close()
    return count / elapsed


def opencv_fps(path: str) -> float:
    capture = cv2.VideoCapture(path)
    started = time.perf_counter()
    count = 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # the engine works in RGB; count the conversion too
        count += 1
    elapsed = time.perf_counter() - started
    capture.release()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for label, (width, height) in {"720p30": (1280, 720), "1080p30": (1920, 1080)}.items():
        path = str(clip_720p(bench_cache() / f"decode_{label}.mp4", seconds=6, width=width, height=height))
        results[label] = {
            "pyav_threaded_fps": round(median([pyav_fps(path) for _ in range(args.runs)]), 1),
            "opencv_fps": round(median([opencv_fps(path) for _ in range(args.runs)]), 1),
        }
    report("decode", {"runs": args.runs, "results": results})


if __name__ == "__main__":
    main()
