"""A real RTSP server on 127.0.0.1 (GStreamer) streaming a face clip into the engine."""

import json

import pytest

from tests.support.rtsp import RtspServer, require_rtsp_server
from tests.test_run_live import records, run_live


@pytest.fixture(scope="module", autouse=True)
def rtsp_available() -> None:
    require_rtsp_server()


def test_engine_scores_a_live_rtsp_stream(one_face_clip, small_checkpoint):
    with RtspServer(one_face_clip) as server:
        url = server.url
        result = run_live("--source", url, "--model", str(small_checkpoint), "--reconnect-attempts", "0")
    assert result.returncode == 0, result.stderr
    lines = records(result.stdout)
    summary = lines[-1]
    assert summary["source"] == url
    assert summary["frames_read"] >= 70 and summary["faces_seen"] == 1
    verdicts = lines[:-1]
    assert len(verdicts) >= 10 and {v["track_id"] for v in verdicts} == {1}
    # Live: windows come in stream order, each over frames the stream delivered, each with its latency.
    # (How far behind the stream they are depends on the machine: benchmarks/live.py --rtsp measures it.)
    ends = [v["last_frame"] for v in verdicts]
    assert ends == sorted(ends) and len(set(ends)) == len(ends) and ends[-1] < summary["frames_read"]
    assert all(v["first_frame"] < v["last_frame"] and v["latency_ms"] >= 0 for v in verdicts)


def test_credentials_never_appear_in_output_and_bad_ones_fail_cleanly(one_face_clip, small_checkpoint):
    with RtspServer(one_face_clip, user="viewer", password="s3cret-pw") as server:
        good = run_live(
            "--source", server.url_with_credentials(), "--model", str(small_checkpoint), "--reconnect-attempts", "0"
        )
        wrong_url = server.url.replace("rtsp://", "rtsp://viewer:wrong-pw@")
        wrong = run_live("--source", wrong_url, "--model", str(small_checkpoint))
    assert good.returncode == 0, good.stderr
    assert "s3cret-pw" not in good.stdout + good.stderr and "viewer" not in good.stdout + good.stderr
    assert json.loads(good.stdout.splitlines()[-1])["source"].startswith("rtsp://***@127.0.0.1")
    assert wrong.returncode == 1 and "wrong-pw" not in wrong.stdout + wrong.stderr
    errors = [line for line in wrong.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in wrong.stderr
