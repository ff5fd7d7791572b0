"""How much the video-level score of a scan moves when only every Nth frame is analysed.

Scans each clip with every frame and with every Nth frame and prints one JSON object: per clip
and per N the video-level p_fake, its absolute difference to the first N given (every frame by
default), whether the verdict flipped, the spread of the window scores (to judge the difference
against) and the seconds of video analysed per wall second. Clips: the given files, or the
generated one-face clip plus the shortest real and fake clips of ../shared/data.

    .venv/bin/python benchmarks/scan_sampling.py [--model ckpt.pt] [--every 1 2 3] [clip.mp4 ...]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def default_clips(workdir: Path, shared_count: int) -> list[Path]:
    """A generated one-face clip, then the shortest real and fake clips of ../shared/data (at least 3 s)."""
    from realtime.sources.demo import render_face_frames, write_video

    clips = [write_video(workdir / "generated_one_face.mp4", render_face_frames(150, 1280, 720))]
    manifest = SHARED_DATA / "manifest.csv"
    if manifest.is_file():
        with open(manifest, newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["kind"] == "video" and float(r["frames"] or 0) >= 90]
        for label in ("real", "fake"):
            picked = sorted((r for r in rows if r["label"] == label), key=lambda r: int(r["frames"]))[:shared_count]
            clips += [SHARED_DATA / r["file"] for r in picked if (SHARED_DATA / r["file"]).is_file()]
    return clips


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--model", type=Path, help="checkpoint (default: the shipped detector, else untrained)")
    parser.add_argument("--every", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--shared-count", type=int, default=2, help="clips per label from ../shared/data")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    from realtime.config import EngineConfig
    from realtime.engine import build_engine, load_engine_detector
    from realtime.summary import VerdictSummary
    from services.scan.scan import FileScan

    loaded = load_engine_detector(EngineConfig(device="cpu"), args.model)
    runtime = None
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for clip in args.clips or default_clips(Path(workdir), args.shared_count):
            entry: dict[str, object] = {"clip": clip.name, "runs": []}
            baseline = None
            for every in args.every:
                config = EngineConfig(device="cpu", torch_threads=1, sample_every=every)
                engine = build_engine(config, detector=loaded, for_scan=True)
                runtime = engine.runtime
                result = FileScan(clip, engine).run()
                summary = VerdictSummary()
                for verdict in result.verdicts:
                    summary.add(verdict)
                score = summary.video_p_fake()
                if baseline is None:
                    baseline = score
                video_s = result.frames[-1].pts_s if result.frames else 0.0
                entry["runs"].append(
                    {
                        "sample_every": every,
                        "video_p_fake": None if score is None else round(score, 4),
                        "abs_diff_vs_first": None
                        if score is None or baseline is None
                        else round(abs(score - baseline), 4),
                        "verdict_flipped": None
                        if score is None or baseline is None
                        else (score >= result.threshold) != (baseline >= result.threshold),
                        "windows": len(result.verdicts),
                        "window_p_fake_range": round(
                            max((v.p_fake for v in result.verdicts), default=0.0)
                            - min((v.p_fake for v in result.verdicts), default=0.0),
                            4,
                        ),
                        "video_s_per_wall_s": round(video_s / result.elapsed_s, 3),
                    }
                )
            results.append(entry)
    summary = {"model": loaded.source, "trained": loaded.spec.trained, "runtime": runtime, "clips": results}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
