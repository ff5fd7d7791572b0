"""``--scan --backend ray``: one Ray task per file, the same reports, index and resume as a local scan.

Ray runs locally with 2 CPUs, one session for the module; scans run in-process through run_scan
as run_live.py calls it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.cli import build_parser, config_from_args
from app.scan import run_scan
from realtime.sources.demo import render_face_frames, write_video
from services.scan.index import INDEX_JSON
from tests.services.scan.scanning import comparable, report_files
from tests.support.data import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three short face clips."""
    root = tmp_path_factory.mktemp("videos")
    frames = render_face_frames(30)
    write_video(root / "a.mp4", frames)
    write_video(root / "b.mp4", frames[::-1])
    write_video(root / "c.mp4", frames[10:] + frames[:10])
    return root


def scan(folder: Path, out: Path, checkpoint: Path, capsys, *extra: str) -> tuple[int, list[dict], str]:
    """run_scan as run_live.py calls it: exit code, stdout records, stderr."""
    argv = ["--source", str(folder), "--scan", "--out", str(out), "--model", str(checkpoint), "--threads", "1"]
    argv += ["--explain", "1", "--stride", "4", *extra]
    args = build_parser().parse_args(argv)
    capsys.readouterr()
    code = run_scan(args.source, args.model, config_from_args(args), args)
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_ray_scan_writes_the_local_scan_reports_and_a_second_run_reuses_them(
    folder, small_checkpoint, local_ray, tmp_path, capsys
):
    local_out, ray_out = tmp_path / "local", tmp_path / "ray"
    code, local_records, err = scan(folder, local_out, small_checkpoint, capsys)
    assert code == 0, err
    code, records, err = scan(folder, ray_out, small_checkpoint, capsys, "--backend", "ray")
    assert code == 0, err
    assert "error" not in err and "Traceback" not in err
    assert sorted((Path(r["file"]).name, r["status"]) for r in records) == [
        ("a.mp4", "scanned"),
        ("b.mp4", "scanned"),
        ("c.mp4", "scanned"),
    ]
    local_files, ray_files = report_files(local_out), report_files(ray_out)
    assert set(ray_files) == set(local_files) and len(ray_files) == 12
    for name in local_files:
        assert comparable(ray_files[name]) == comparable(local_files[name]), name
    reports = [json.loads(path.read_text()) for name, path in ray_files.items() if name.endswith(".json")]
    assert all(report["complete"] and report["run"]["windows_scored"] > 0 for report in reports)
    ray_index, local_index = (json.loads((out / INDEX_JSON).read_text()) for out in (ray_out, local_out))
    assert ray_index["complete"] and ray_index["files"] == local_index["files"]
    assert {r["file"]: r["verdict"] for r in records} == {r["file"]: r["verdict"] for r in local_records}

    written = {name: path.stat().st_mtime_ns for name, path in ray_files.items()}
    code, again, err = scan(folder, ray_out, small_checkpoint, capsys, "--backend", "ray")
    assert code == 0, err
    assert [r["status"] for r in again] == ["reused"] * 3
    assert {name: path.stat().st_mtime_ns for name, path in report_files(ray_out).items()} == written
    assert json.loads((ray_out / INDEX_JSON).read_text())["run"]["reused"] == 3


def test_a_damaged_file_fails_alone_with_the_local_scan_exit_code(
    one_face_clip, small_checkpoint, local_ray, tmp_path, capsys
):
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "good.mp4").write_bytes(one_face_clip.read_bytes())
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    local = scan(folder, tmp_path / "local", small_checkpoint, capsys)
    on_ray = scan(folder, tmp_path / "ray", small_checkpoint, capsys, "--backend", "ray")
    for code, records, err in (local, on_ray):
        assert code == 1
        assert {Path(r["file"]).name: r["status"] for r in records} == {"broken.mp4": "failed", "good.mp4": "scanned"}
        lines = err.strip().splitlines()
        assert [line.split(":")[0] for line in lines if not line.startswith("warning: ")] == ["error"]
        assert lines[-1] == "error: 1 of 2 files could not be scanned"
        about_it = [line for line in lines if "broken.mp4" in line]
        assert len(about_it) == 1 and about_it[0].startswith(f"warning: {folder / 'broken.mp4'}: cannot read")
    assert [path.name for path in (tmp_path / "ray").glob("*.deepfake.json")] == ["good.deepfake.json"]
    assert json.loads((tmp_path / "ray" / INDEX_JSON).read_text())["run"] == {
        "scanned": 1,
        "reused": 0,
        "failed": 1,
        "interrupted": 0,
    }


def test_each_worker_process_loads_the_model_once(folder, small_checkpoint, local_ray, tmp_path):
    from app.scan_common import load_scan_model
    from realtime.config import EngineConfig
    from services.scan.ray_scan import RayFolderScan, TaskResources
    from services.scan.ray_task import ScanJob
    from services.scan.reports import report_paths

    config = EngineConfig(torch_threads=1, stride=4)
    detector, identity = load_scan_model(small_checkpoint, config)
    job = ScanJob([local_ray.put(detector)], identity, config, 0, 1)
    videos = sorted(folder.glob("*.mp4")) * 2  # six tasks on two CPUs
    files = [(video, report_paths(video, tmp_path / str(n))) for n, video in enumerate(videos)]
    scan = RayFolderScan(job, {}, TaskResources(cpus=1), rescan=True, on_outcome=lambda outcome: None)
    outcomes, pending = scan.run(files)
    assert [o.status for o in outcomes] == ["scanned"] * 6 and not pending
    by_worker: dict[int, list[bool]] = {}
    for result in scan.task_results:
        by_worker.setdefault(result.worker_pid, []).append(result.scanner_built)
    assert len(by_worker) < len(files), "every task ran in a new worker process"
    for built in by_worker.values():
        assert built[0] and not any(built[1:])


def test_sigterm_on_a_cluster_cancels_the_tasks_and_indexes_what_finished(small_checkpoint, local_ray, tmp_path):
    """A second driver joins this module's Ray by --address (code shipped as py_modules), then gets SIGTERM."""
    folder, out = tmp_path / "videos", tmp_path / "out"
    frames = render_face_frames(75)
    for number in range(6):
        write_video(folder / f"v{number}.mp4", frames[number * 5 :] + frames[: number * 5])
    address = local_ray.get_runtime_context().gcs_address
    command = [sys.executable, str(REPO_ROOT / "run_live.py"), "--source", str(folder), "--scan", "--out", str(out)]
    command += ["--model", str(small_checkpoint), "--threads", "1", "--backend", "ray", "--address", address]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    deadline = time.monotonic() + 120
    while not list(out.glob("*.deepfake.json")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(out.glob("*.deepfake.json")), "no report was written"
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1 and "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: interrupted after "), stderr
    index = json.loads((out / INDEX_JSON).read_text())
    assert not index["complete"] and len(index["files"]) == 6
    finished = [row for row in index["files"] if row["complete"]]
    assert finished and len(finished) < 6, "stopped too late: every file was done"
    for row in finished:  # what finished has its whole report set, written by the driver
        assert json.loads((out / row["report_json"]).read_text())["complete"]
        assert (out / row["report_html"]).is_file()
    statuses = [json.loads(line)["status"] for line in stdout.splitlines()]
    assert statuses.count("scanned") == len(finished) and set(statuses) <= {"scanned", "interrupted"}
    assert not [path for path in out.iterdir() if ".part" in path.name]


def test_a_worker_dying_mid_task_is_retried_once_then_its_file_fails_alone(
    small_checkpoint, local_ray, tmp_path, monkeypatch
):
    from app.scan_common import load_scan_model
    from realtime.config import EngineConfig
    from services.scan import ray_scan
    from services.scan.ray_scan import RayFolderScan, TaskResources
    from services.scan.ray_task import ScanJob
    from services.scan.reports import report_paths
    from tests.services.scan import dying_task

    folder, out = tmp_path / "videos", tmp_path / "out"
    frames = render_face_frames(30)
    for name in ("a.mp4", "victim.mp4", "doomed.mp4"):
        write_video(folder / name, frames)
    config = EngineConfig(torch_threads=1, stride=4)
    detector, identity = load_scan_model(small_checkpoint, config)
    job = ScanJob([local_ray.put(detector)], identity, config, 0, 1)
    files = [(video, report_paths(video, out)) for video in sorted(folder.glob("*.mp4"))]
    # The scan's own task and options, its worker process killed mid-scan (SIGKILL at frame 10) as the file says.
    monkeypatch.setattr(ray_scan, "scan_file", dying_task.scan_file_dying)
    scan = RayFolderScan(job, {}, TaskResources(cpus=1), rescan=True, on_outcome=lambda outcome: None)
    outcomes, pending = scan.run(files)
    by_name = {outcome.video.name: outcome for outcome in outcomes}
    assert not pending and set(by_name) == {"a.mp4", "victim.mp4", "doomed.mp4"}
    # The victim died once and its retry scanned it whole; the doomed file used its retry too, then failed alone.
    assert {name: dying_task.attempts(folder / name) for name in by_name} == {
        "a.mp4": 1,
        "victim.mp4": 2,
        "doomed.mp4": 1 + ray_scan.TASK_RETRIES,
    }
    assert by_name["a.mp4"].status == by_name["victim.mp4"].status == "scanned"
    victim = json.loads(by_name["victim.mp4"].paths.json.read_text())
    assert victim["complete"] and victim["run"]["frames_analyzed"] == 30 and victim["run"]["windows_scored"] > 0
    doomed = by_name["doomed.mp4"]
    assert doomed.status == "failed" and doomed.error.startswith("scan task failed: ") and "\n" not in doomed.error
    assert not doomed.paths.json.exists()
