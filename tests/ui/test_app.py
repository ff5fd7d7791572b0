"""``run_window``'s contract for bad input: one ``error:`` line on stderr and a non-zero exit code."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PyQt5.QtCore import QSettings, QTimer
from PyQt5.QtWidgets import QApplication, QLineEdit

from app.window import run_window_app
from realtime.config import EngineConfig
from ui.recent import RecentSources
from ui.source_dialog import SourceDialog

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_missing_source_and_missing_model_fail_with_one_line(qapp, capsys, tmp_path, small_checkpoint):
    config = EngineConfig(device="cpu", torch_threads=1)
    assert run_window_app(str(tmp_path / "missing.mp4"), small_checkpoint, config) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: source not found: {tmp_path / 'missing.mp4'}"
    assert run_window_app(None, tmp_path / "missing.pt", config) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: model checkpoint not found: {tmp_path / 'missing.pt'}"]


def test_window_mode_prints_the_summary_line_of_a_headless_run(qapp, capsys, one_face_clip, small_checkpoint):
    from ui.window import MainWindow

    def close_when_done() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.final_summary is not None:
                widget.close()

    timer = QTimer()
    timer.timeout.connect(close_when_done)
    timer.start(100)
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(QApplication.closeAllWindows)
    safety.start(60_000)
    try:
        code = run_window_app(str(one_face_clip), small_checkpoint, EngineConfig(device="cpu", torch_threads=1))
    finally:
        timer.stop()
        safety.stop()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and [line["type"] for line in lines] == ["summary"]
    summary = lines[0]
    assert summary["frames_read"] == 75 and summary["verdict"] == "untrained" and "interrupted" not in summary
    assert summary["source"] == str(one_face_clip) and summary["model"]["evaluated"] == []


def test_source_failing_before_its_first_frame_closes_the_window_with_its_error(qapp, capsys, small_checkpoint):
    # The webcam source fails on its capture thread, after the window opened.
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(QApplication.quit)
    safety.start(30_000)
    code = run_window_app("webcam:57", small_checkpoint, EngineConfig(device="cpu", torch_threads=1))
    safety.stop()
    assert code == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: no webcam with index 57")


def test_real_window_under_xvfb(tmp_path, one_face_clip, small_checkpoint):
    """The benchmark opens a real X11 window (xcb) under Xvfb, plays the clip and measures its frame times."""
    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is not installed (Debian package xvfb)")
    command = [
        "xvfb-run",
        "-a",
        sys.executable,
        str(REPO_ROOT / "benchmarks" / "gui_frame_time.py"),
        "--source",
        str(one_face_clip),
        "--model",
        str(small_checkpoint),
        "--seconds",
        "2",
        "--platform",
        "xcb",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    # What it measured, not how fast this machine is (the benchmark's figures are read in benchmarks/results).
    assert report["platform"] == "xcb" and report["frames_shown"] > 0
    for figures in (report["paint_ms"], report["frame_update_ms"]):
        assert 0.0 < figures["median"] <= figures["p95"] <= figures["max"]
    assert report["frame_period_ms"] == 40.0 and report["video_size"] == [640, 360]


def test_source_dialog_builds_specs_and_never_shows_the_password(qtbot):
    dialog = SourceDialog([])
    qtbot.addWidget(dialog)
    dialog.tabs.setCurrentIndex(1)
    dialog.url.setText("rtsp://cam.local:554/live?token=abc")
    dialog.user.setText("admin")
    dialog.password.setText("p@ss:word")
    assert dialog.spec() == "rtsp://admin:p%40ss%3Aword@cam.local:554/live?token=abc"
    assert dialog.url_preview.text() == "rtsp://***@cam.local:554/live?token=***"
    assert dialog.password.echoMode() == QLineEdit.Password
    dialog.tabs.setCurrentIndex(2)
    dialog.webcam_index.setValue(3)
    assert dialog.spec() == "webcam:3"
    dialog.tabs.setCurrentIndex(3)
    dialog.region.setText("10,20,640,360")
    assert dialog.spec() == "screen:10,20,640,360"
    dialog.tabs.setCurrentIndex(4)
    assert dialog.spec() is None


def test_recent_sources_keep_the_newest_first_and_never_credentials(qtbot, tmp_path, one_face_clip):
    recent = RecentSources(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), limit=3)
    for spec in ("webcam:0", "rtsp://admin:secret@cam/live", "http://cam/x?token=t", None, "screen:", "webcam:0"):
        recent.remember(spec)
    recent.remember(str(one_face_clip))
    assert recent.entries() == [str(one_face_clip.resolve()), "webcam:0", "screen:"]
    reread = RecentSources(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    assert reread.entries() == recent.entries()
    dialog = SourceDialog(reread.entries())
    qtbot.addWidget(dialog)
    assert dialog.tabs.tabText(0) == "Recent" and dialog.recent.count() == 3
    assert dialog.spec() == str(one_face_clip.resolve())
    dialog.recent.setCurrentRow(2)
    assert dialog.spec() == "screen:"


def test_sigterm_closes_the_window_and_exits_cleanly(one_face_clip, small_checkpoint):
    script = (
        "import sys; from pathlib import Path; from realtime.config import EngineConfig; "
        "from app.window import run_window_app; "
        "sys.exit(run_window_app(sys.argv[1], Path(sys.argv[2]), EngineConfig(device='cpu', realtime=True)))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(one_face_clip), str(small_checkpoint)],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = iter(process.stderr.readline, "")
        assert any("is untrained" in line for line in lines)  # printed once the model is loaded
        time.sleep(1.0)  # the window opens and the paced clip plays
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.wait()
