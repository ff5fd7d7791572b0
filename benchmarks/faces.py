"""Face stage cost: ms per frame of each detector setting, and how much tracking saves."""

from __future__ import annotations

import argparse
import threading
import time

from benchmarks.common import bench_cache, clip_720p, median, report
from faces.detector import FaceDetector
from realtime.face_stage import CropSettings, FaceStage
from realtime.sources.av_source import AvSource


def decoded_frames(path: str, limit: int) -> list:
    source = AvSource(path, live=False)
    source.open()
    frames = []
    for frame in source.frames(threading.Event()):
        frames.append(frame)
        if len(frames) == limit:
            break
    source.close()
    return frames


def detector_ms(detector: FaceDetector, frames: list) -> tuple[float, float]:
    """Median ms per frame, and the share of frames where a face was found."""
    times, found = [], 0
    for frame in frames:
        started = time.perf_counter()
        found += bool(detector.detect(frame.image))
        times.append((time.perf_counter() - started) * 1000)
    return median(times), found / len(frames)


def stage_ms(frames: list, detect_every: int, motion: str) -> dict:
    stage = FaceStage("bench", FaceDetector(), CropSettings(1.3, 128, False, 256), detect_every, motion=motion)
    times = []
    for frame in frames:
        started = time.perf_counter()
        stage.process(frame)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "ms_per_frame_mean": round(sum(times) / len(times), 2),  # mean: detection frames are the costly ones
        "tracked_share": round(stage.follower.frames_tracked_only / len(frames), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--cnn-frames", type=int, default=2, help="dlib's CNN detector is slow on CPU")
    args = parser.parse_args()
    frames = decoded_frames(str(clip_720p(bench_cache() / "live_720p30.mp4", seconds=20)), args.frames)
    detectors = {
        "hog_full_720p": FaceDetector("hog", max_side=0),
        "hog_downscaled_640": FaceDetector("hog", max_side=640),
        "hog_downscaled_480": FaceDetector("hog", max_side=480),
    }
    results = {}
    for name, detector in detectors.items():
        ms, found = detector_ms(detector, frames)
        results[name] = {"ms_per_frame": round(ms, 2), "face_found_share": round(found, 3)}
    ms, found = detector_ms(FaceDetector("cnn", max_side=640), frames[: args.cnn_frames])
    results["cnn_downscaled_640"] = {"ms_per_frame": round(ms, 2), "face_found_share": round(found, 3)}
    stage = {
        f"detect_every_{n}_{motion}": stage_ms(frames, n, motion)
        for n, motion in [(1, "none"), (5, "track"), (5, "interpolate"), (10, "interpolate")]
    }
    report("faces", {"frames": len(frames), "resolution": "1280x720", "detectors": results, "face_stage": stage})


if __name__ == "__main__":
    main()
