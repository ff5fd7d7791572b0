"""run_live.py as a user runs it: a subprocess, JSON lines on stdout, one-line errors."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from realtime.sources.demo import portrait
from tests.support.data import REPO_ROOT


def run_live(*args: str, timeout_s: float = 120.0, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "run_live.py"), "--headless", "--threads", "1", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
    )


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_file_source_prints_verdicts_then_a_summary(one_face_clip, small_checkpoint):
    result = run_live("--source", str(one_face_clip), "--model", str(small_checkpoint), "--stride", "5")
    assert result.returncode == 0, result.stderr
    lines = records(result.stdout)
    verdicts, summary = lines[:-1], lines[-1]
    assert verdicts and all(v["type"] == "verdict" for v in verdicts)
    first = verdicts[0]
    assert set(first) >= {
        "source",
        "track_id",
        "first_frame",
        "last_frame",
        "start_pts_s",
        "end_pts_s",
        "p_fake",
        "label",
        "latency_ms",
    }
    assert first["window_frames"] == 8 and first["source"] == str(one_face_clip)
    assert summary["type"] == "summary" and summary["frames_read"] == 75 and summary["faces_seen"] == 1
    assert summary["windows_scored"] == len(verdicts) and summary["frames_dropped"] == 0
    # The video score is the mean over half-second moments of the most suspicious window ending in each,
    # recomputed here from the verdict lines the run printed.
    moments: dict[int, float] = {}
    for v in verdicts:
        moment = int(v["end_pts_s"] // 0.5)
        moments[moment] = max(moments.get(moment, 0.0), v["p_fake"])
    assert len(moments) >= 5
    assert summary["video_p_fake"] == pytest.approx(sum(moments.values()) / len(moments), abs=1e-3)
    assert summary["max_p_fake"] == max(v["p_fake"] for v in verdicts)
    assert isinstance(summary["suspicious_segments"], list)


def test_untrained_model_says_so_in_every_output(one_face_clip, small_checkpoint):
    result = run_live("--source", str(one_face_clip), "--model", str(small_checkpoint))
    lines = records(result.stdout)
    assert lines and all("untrained" in line["warning"] for line in lines)
    assert all(line["label"] == "untrained" for line in lines[:-1])
    assert lines[-1]["verdict"] == "untrained"
    assert "untrained" in result.stderr


def test_image_folder_is_scored_image_by_image(tmp_path, small_checkpoint):
    cv2.imwrite(str(tmp_path / "face.png"), portrait()[:, :, ::-1])
    cv2.imwrite(str(tmp_path / "empty.png"), portrait()[:30, :30, ::-1])
    result = run_live("--source", str(tmp_path), "--model", str(small_checkpoint))
    assert result.returncode == 0, result.stderr
    lines = records(result.stdout)
    assert [(v["image"], v["window_frames"]) for v in lines[:-1]] == [("face.png", 1)]
    assert lines[-1]["frames_read"] == 2 and "fake_images" in lines[-1]


def test_user_mistakes_give_one_line_errors_and_nonzero_exit(tmp_path, small_checkpoint):
    missing = run_live("--source", str(tmp_path / "missing.mp4"), "--model", str(small_checkpoint))
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [f"error: source not found: {tmp_path / 'missing.mp4'}"]

    no_model = run_live("--source", str(tmp_path), "--model", str(tmp_path / "none.pt"))
    assert no_model.returncode == 1 and "model checkpoint not found" in no_model.stderr
    assert "Traceback" not in no_model.stderr

    bad_number = run_live("--window", "-3")
    assert bad_number.returncode == 2 and "expected a positive integer" in bad_number.stderr

    conflicting = run_live("--source", "rtsp://cam/x", "--realtime")
    assert conflicting.returncode == 2 and "--realtime paces video files" in conflicting.stderr
    unknown = run_live("--source", "ftp2://host/x", "--model", str(small_checkpoint))
    assert unknown.returncode == 1 and "unknown source scheme" in unknown.stderr

    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(4096))
    broken = run_live("--source", str(junk), "--model", str(small_checkpoint))
    errors = [line for line in broken.stderr.splitlines() if line.startswith("error:")]
    assert broken.returncode == 1 and len(errors) == 1 and "Traceback" not in broken.stderr
    assert "junk.mp4" in errors[0] and broken.stdout == ""


def test_no_source_runs_the_demo(tmp_path, small_checkpoint):
    result = run_live("--model", str(small_checkpoint), env={"DEEPFAKE_ANALYZER_CACHE": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    summary = records(result.stdout)[-1]
    assert summary["faces_seen"] == 1 and summary["windows_scored"] > 0
    assert Path(summary["source"]).parent == tmp_path


@pytest.mark.parametrize(
    ("signum", "extra", "code"),
    [(signal.SIGINT, [], 0), (signal.SIGTERM, [], 0), (signal.SIGTERM, ["--fail-on-interrupt"], 130)],
)
def test_interrupt_stops_cleanly_and_keeps_what_was_analysed(one_face_clip, small_checkpoint, signum, extra, code):
    command = [sys.executable, str(REPO_ROOT / "run_live.py"), "--headless", "--threads", "1", "--realtime", *extra]
    command += ["--source", str(one_face_clip), "--model", str(small_checkpoint), "--window", "4"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    first_line = process.stdout.readline()  # the first verdict: analysis is under way
    process.send_signal(signum)
    rest, stderr = process.communicate(timeout=15)
    lines = records(first_line + rest)
    assert process.returncode == code, stderr
    assert lines[0]["type"] == "verdict" and "Traceback" not in stderr
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["interrupted"] is True
    assert 0 < summary["frames_read"] < 75 and summary["windows_scored"] == len(lines) - 1


def test_cuda_request_without_a_gpu_is_a_clear_error(small_checkpoint):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = run_live("--device", "cuda", "--model", str(small_checkpoint))
    assert result.returncode == 1 and "no CUDA GPU is available" in result.stderr


def run_into_closed_pipe(*args: str, read_bytes: int = 300) -> tuple[int, str]:
    """Runs run_live.py with stdout into a pipe whose reader takes ``read_bytes`` and goes away, as
    ``run_live.py ... | head -c 300`` does; returns the exit status and stderr."""
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run_live.py"), "--headless", "--threads", "1", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
    )
    first = process.stdout.read(read_bytes)
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    assert len(first) == read_bytes  # the reader really got the start of the output before leaving
    return process.returncode, stderr.decode()


def test_a_headless_run_piped_into_head_stops_quietly(one_face_clip, small_checkpoint):
    # --realtime plays the clip at its frame rate, so verdicts are still coming when the reader leaves.
    code, stderr = run_into_closed_pipe("--source", str(one_face_clip), "--model", str(small_checkpoint), "--realtime")
    assert code == 141 and "Traceback" not in stderr and "Error" not in stderr, stderr


def test_a_folder_scan_piped_into_head_stops_quietly(one_face_clip, small_checkpoint, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        (folder / name).write_bytes(one_face_clip.read_bytes())
    args = ("--scan", "--source", str(folder), "--model", str(small_checkpoint), "--out", str(tmp_path / "reports"))
    code, stderr = run_into_closed_pipe(*args, "--explain", "0", read_bytes=20)
    assert code == 141 and "Traceback" not in stderr, stderr
    assert len(list((tmp_path / "reports").glob("*.json"))) < 4  # it stopped instead of scanning on


def test_a_streams_run_piped_into_head_stops_quietly(one_face_clip, small_checkpoint, tmp_path):
    streams = tmp_path / "streams.yaml"
    streams.write_text(f"- name: a\n  source: {one_face_clip}\n- name: b\n  source: {one_face_clip}\n")
    code, stderr = run_into_closed_pipe("--streams", str(streams), "--model", str(small_checkpoint), "--realtime")
    assert code == 141 and "Traceback" not in stderr, stderr
