"""A folder scan killed mid-way keeps its finished reports and, run again, ends as an uninterrupted scan."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from realtime.sources.demo import render_face_frames, write_video
from services.scan import report_json
from services.scan.index import INDEX_HTML, INDEX_JSON, INDEX_SCHEMA_PATH
from tests.services.scan.scanning import comparable, report_files

MAIN = Path(__file__).resolve().parents[3] / "run_live.py"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three short face clips, one of them in a subfolder, two sharing a stem."""
    root = tmp_path_factory.mktemp("videos")
    frames = render_face_frames(40)
    write_video(root / "a.mp4", frames)
    write_video(root / "b.mp4", frames[::-1])
    write_video(root / "sub" / "a.mkv", frames[10:] + frames[:10])
    write_video(root / "sub" / "a.mp4", [np.ascontiguousarray(f[:, ::-1]) for f in frames])
    return root


def scan_command(folder: Path, out: Path, checkpoint: Path) -> list[str]:
    return [
        sys.executable, str(MAIN), "--source", str(folder), "--scan", "--recursive", "--out", str(out),
        "--model", str(checkpoint), "--threads", "1", "--explain", "1", "--stride", "4",
    ]  # fmt: skip


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def wait_for(path: Path, process: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path.name} was never written"


class TerminalStderr:
    """A pseudo-terminal for a child's stderr, so the scan draws its progress bar there; read as it comes."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self.text = ""

    def read(self, timeout_s: float) -> bool:
        """Reads what came within ``timeout_s``; False once the child closed its end."""
        ready, _, _ = select.select([self.master], [], [], timeout_s)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: every writer closed
            return False
        self.text += chunk.decode(errors="replace")
        return bool(chunk)

    def lines(self) -> list[str]:
        """Lines as a log would keep them: the progress bar's redraws (CR, erase) dropped."""
        text = self.text.replace("\x1b[K", "").replace("\r\n", "\n")
        return [line.split("\r")[-1] for line in text.split("\n") if line.split("\r")[-1]]


def test_sigterm_stops_the_file_being_scanned_and_keeps_its_partial_report(small_checkpoint, tmp_path):
    # b.mp4 is long and the signal comes once its progress bar shows it under way: the signal lands in the
    # middle of scanning a file, every time, and that file must keep what was analysed, marked incomplete.
    folder, out = tmp_path / "videos", tmp_path / "out"
    frames = render_face_frames(40)
    write_video(folder / "a.mp4", frames)
    write_video(folder / "b.mp4", frames * 10)  # 400 frames
    terminal = TerminalStderr()
    process = subprocess.Popen(
        scan_command(folder, out, small_checkpoint), stdout=subprocess.PIPE, stderr=terminal.slave, text=True
    )
    os.close(terminal.slave)
    progress = re.compile(r"\]\s+(\d+)%  2/2 b\.mp4")
    try:
        deadline = time.monotonic() + 120
        while not any(int(p) >= 5 for p in progress.findall(terminal.text)) and time.monotonic() < deadline:
            assert terminal.read(0.1) and process.poll() is None, terminal.text[-2000:]
        assert progress.search(terminal.text), "b.mp4 never showed progress"
        process.send_signal(signal.SIGTERM)
        while terminal.read(1.0):
            pass
        stdout, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # a failed wait must not leave the scan running after the test
            process.kill()
            process.communicate()
        os.close(terminal.master)
    lines = terminal.lines()
    assert process.returncode == 1 and "Traceback" not in terminal.text
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: interrupted"), lines
    records = {Path(r["file"]).name: r for r in map(json.loads, stdout.splitlines())}
    assert [(name, r["status"]) for name, r in records.items()] == [("a.mp4", "scanned"), ("b.mp4", "interrupted")]
    partial = json.loads(Path(records["b.mp4"]["report"]).read_text())
    report_json.validate(partial)
    assert partial["complete"] is False and partial["interrupted"] is True
    assert 0 < partial["run"]["frames_analyzed"] < 400 and partial["run"]["windows_scored"] > 0
    index = json.loads((out / INDEX_JSON).read_text())
    assert not index["complete"] and [f["complete"] for f in index["files"]] == [True, False]
    assert index["run"]["interrupted"] == 1


def test_killed_scan_resumes_and_matches_an_uninterrupted_one(folder, small_checkpoint, tmp_path):
    resumed_out, clean_out = tmp_path / "resumed", tmp_path / "clean"
    command = scan_command(folder, resumed_out, small_checkpoint)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(resumed_out / "a.deepfake.json", process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    finished = {name: path.stat().st_mtime_ns for name, path in report_files(resumed_out).items()}
    assert set(finished) >= {f"a.deepfake.{ext}" for ext in ("json", "csv", "html", "srt")}
    assert "sub/a.mp4.deepfake.json" not in finished, "killed too late: every file was already done"

    again = run(command)
    assert again.returncode == 0, again.stderr
    statuses = {
        Path(r["file"]).relative_to(folder).as_posix(): r["status"] for r in map(json.loads, again.stdout.splitlines())
    }
    assert statuses["a.mp4"] == "reused" and statuses["sub/a.mp4"] == "scanned" and len(statuses) == 4
    for name, mtime in finished.items():
        if name.startswith("a.deepfake."):
            assert (resumed_out / name).stat().st_mtime_ns == mtime, f"{name} was rewritten"

    clean = run(scan_command(folder, clean_out, small_checkpoint))
    assert clean.returncode == 0, clean.stderr
    resumed_files, clean_files = report_files(resumed_out), report_files(clean_out)
    assert set(resumed_files) == set(clean_files) and len(clean_files) == 16
    assert {"sub/a.mkv.deepfake.json", "sub/a.mp4.deepfake.json", "b.deepfake.srt"} <= set(clean_files)
    for name in clean_files:
        assert comparable(resumed_files[name]) == comparable(clean_files[name]), name
        if name.endswith(".json"):
            report_json.validate(json.loads(clean_files[name].read_text()))

    import jsonschema

    index = json.loads((resumed_out / INDEX_JSON).read_text())
    jsonschema.validate(index, json.loads(INDEX_SCHEMA_PATH.read_text()), cls=jsonschema.Draft202012Validator)
    assert index["complete"] and index["run"]["reused"] >= 1 and len(index["files"]) == 4
    clean_index = json.loads((clean_out / INDEX_JSON).read_text())
    assert [f for f in index["files"]] == clean_index["files"]
    assert all((resumed_out / f["report_html"]).is_file() for f in index["files"])
    assert "sub/a.mkv" in (resumed_out / INDEX_HTML).read_text()
    assert not [p for p in resumed_out.rglob("*") if ".part" in p.name]
