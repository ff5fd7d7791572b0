"""GUI-thread cost per video frame of the live window, playing a real clip while the engine analyses it.

Prints one JSON object: the median/p95/max of the video widget's paint time, of the frame
update (taking the due frame, looking up its faces and scores, handing it to the widget) and of
the timeline's redraws (about ten a second), all on the GUI thread, against the clip's frame
period. Offscreen by default; ``--platform xcb`` under Xvfb (or a desktop) measures a real window.

    .venv/bin/python benchmarks/gui_frame_time.py [--source clip.mp4] [--model ckpt.pt] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def percentiles(values: list[float]) -> dict[str, float | None]:
    import numpy as np

    if not values:
        return {"median": None, "p95": None, "max": None}
    array = np.asarray(values)
    return {
        "median": round(float(np.median(array)), 3),
        "p95": round(float(np.percentile(array, 95)), 3),
        "max": round(float(array.max()), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="video file (default: the built-in demo clip)")
    parser.add_argument("--model", type=Path, help="checkpoint (default: the shipped detector)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to play")
    parser.add_argument("--platform", default="offscreen", help="Qt platform plugin: offscreen, xcb, ...")
    parser.add_argument("--window-size", default="1280x800", help="WxH of the window")
    args = parser.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    from PyQt5.QtCore import QTimer
    from PyQt5.QtWidgets import QApplication

    from realtime.config import EngineConfig
    from realtime.engine import build_engine
    from ui.window import MainWindow

    app = QApplication(sys.argv[:1])
    window = MainWindow(build_engine(EngineConfig(), args.model))
    width, height = (int(v) for v in args.window_size.split("x"))
    window.resize(width, height)
    window.open_source(args.source)
    playback = window.session.playback
    if playback is None:
        print("error: the benchmark plays a video file", file=sys.stderr)
        return 1
    fps, video_size = playback.fps, [playback.width, playback.height]
    window.show()
    QTimer.singleShot(round(args.seconds * 1000), window.close)
    app.exec_()
    report = {
        "platform": app.platformName(),
        "source": args.source or "demo clip",
        "model": window.engine.model_source,
        "device": window.engine.device,
        "seconds": args.seconds,
        "video_size": video_size,
        "window_size": [width, height],
        "video_widget_size": [window.video.width(), window.video.height()],
        "frames_shown": len(window.tick_ms),
        "paint_ms": percentiles(list(window.video.paint_ms)),
        "frame_update_ms": percentiles(list(window.tick_ms)),
        "timeline_paint_ms": percentiles(list(window.timeline.paint_ms)),
        "frame_period_ms": round(1000.0 / fps, 3),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
