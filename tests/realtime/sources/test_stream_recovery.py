"""Streams that break: servers killed, stalled or gone; the engine reconnects or gives up cleanly."""

import json
import time

import pytest

from tests.support.live_process import LiveProcess
from tests.support.rtsp import RtspServer, require_rtsp_server
from tests.test_run_live import run_live


@pytest.fixture(scope="module", autouse=True)
def rtsp_available() -> None:
    require_rtsp_server()


def is_verdict(record: dict) -> bool:
    return record["type"] == "verdict"


def test_server_killed_and_restarted_reconnects_and_verdicts_resume(one_face_clip, small_checkpoint):
    server = RtspServer(one_face_clip, loop=True)
    server.start()
    live = LiveProcess("--source", server.url, "--model", str(small_checkpoint), "--read-timeout", "2")
    try:
        live.wait_for(is_verdict, timeout_s=40)
        server.kill()
        live.wait_for(lambda r: r.get("event") == "reconnecting", timeout_s=15)
        time.sleep(1.0)
        server.start()  # same port
        live.wait_for(lambda r: r.get("event") == "reconnected", timeout_s=30)
        after = live.wait_for(is_verdict, timeout_s=30)
        code, stderr = live.finish()
    finally:
        server.stop()
        if live.process.poll() is None:
            live.process.kill()
    assert code == 0, stderr
    summary = live.records[-1]
    assert summary["type"] == "summary" and summary["reconnects"] == 1
    outage = summary["outages"][0]
    assert outage["end_s"] > outage["start_s"] and after["start_pts_s"] >= outage["end_s"] - 0.5
    assert "reconnecting in" in stderr and "Traceback" not in stderr


def test_stalled_server_is_detected_by_the_read_timeout(one_face_clip, small_checkpoint):
    with RtspServer(one_face_clip, loop=True) as server:
        live = LiveProcess("--source", server.url, "--model", str(small_checkpoint), "--read-timeout", "1.5")
        try:
            live.wait_for(is_verdict, timeout_s=40)
            server.freeze(True)
            stalled = live.wait_for(lambda r: r.get("event") == "reconnecting", timeout_s=15)
            server.freeze(False)
            live.wait_for(lambda r: r.get("event") == "reconnected", timeout_s=30)
            code, _ = live.finish()
        finally:
            server.freeze(False)
            if live.process.poll() is None:
                live.process.kill()
    assert code == 0 and stalled["attempt"] == 1


def test_server_gone_for_good_gives_up_with_a_clear_error(one_face_clip, small_checkpoint):
    server = RtspServer(one_face_clip, loop=True)
    server.start()
    live = LiveProcess(
        "--source", server.url, "--model", str(small_checkpoint), "--reconnect-attempts", "2", "--read-timeout", "2"
    )
    try:
        live.wait_for(is_verdict, timeout_s=40)
        server.kill()
        code, stderr = live.finish(timeout_s=30, terminate=False)
    finally:
        server.stop()
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert code == 1 and len(errors) == 1 and "gave up on rtsp://127.0.0.1" in errors[0]
    assert "after 2 reconnect attempts" in errors[0]
    assert live.records[-1]["type"] == "summary" and live.records[-1]["windows_scored"] > 0  # nothing lost


def test_connection_refused_fails_at_once(small_checkpoint):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_live("--source", f"rtsp://127.0.0.1:{port}/cam", "--model", str(small_checkpoint))
    assert result.returncode == 1 and "cannot open rtsp://127.0.0.1" in result.stderr
    # At once: the first connection's failure is the answer, not retried (no reconnect status, no backoff).
    assert "Connection refused" in result.stderr and "reconnecting" not in result.stdout + result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        f"error: cannot open rtsp://127.0.0.1:{port}/cam: Connection refused"
    ]


def is_reconnecting(record: dict) -> bool:
    return record.get("event") == "reconnecting"


def outage(live: LiveProcess, server: RtspServer) -> dict:
    """Kills the server, lets a reconnect attempt fail against it, brings it back; the first status of the outage."""
    server.kill()
    first = live.wait_for(is_reconnecting, timeout_s=15)
    live.wait_for(lambda r: is_reconnecting(r) and r["attempt"] == 2, timeout_s=15)  # a retry found nothing
    server.start()  # same port; attempts 3 and 4 (2 s and 4 s later) are still to come
    live.wait_for(lambda r: r.get("event") == "reconnected", timeout_s=30)
    live.wait_for(is_verdict, timeout_s=30)
    return first


def test_outages_of_a_stream_with_credentials_reconnect_twice_then_give_up_without_showing_them(
    one_face_clip, small_checkpoint
):
    # Four attempts per outage: a second outage after a successful reconnect starts its count afresh, and
    # neither the reconnect statuses and warnings nor the give-up error show the user or the password.
    server = RtspServer(one_face_clip, user="viewer", password="s3cret-pw", loop=True)
    server.start()
    url = server.url_with_credentials()
    live = LiveProcess(
        "--source", url, "--model", str(small_checkpoint), "--reconnect-attempts", "4", "--read-timeout", "2"
    )
    try:
        live.wait_for(is_verdict, timeout_s=40)
        first = outage(live, server)
        second = outage(live, server)
        server.kill()  # for good
        code, stderr = live.finish(timeout_s=60, terminate=False)
    finally:
        server.stop()
        if live.process.poll() is None:
            live.process.kill()
    assert first["attempt"] == 1 and second["attempt"] == 1  # the count restarted after the first reconnect
    masked = f"rtsp://***@127.0.0.1:{server.port}/stream"
    statuses = [r for r in live.records if r["type"] == "status"]
    assert [r["event"] for r in statuses if r["event"] == "reconnected"] == ["reconnected", "reconnected"]
    assert all(r["source"] == masked for r in statuses)
    assert any(masked in r["reason"] for r in statuses if is_reconnecting(r))  # reasons name the stream, masked
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert code == 1 and len(errors) == 1 and errors[0].startswith(f"error: gave up on {masked} after 4 reconnect")
    assert stderr.count("reconnecting in") >= 2 + 2 + 4  # a warning per attempt: two outages, then the last
    summary = live.records[-1]
    assert summary["type"] == "summary" and summary["source"] == masked and summary["reconnects"] == 2
    assert len(summary["outages"]) == 3 and summary["windows_scored"] > 0
    everything = json.dumps(live.records) + stderr
    assert "s3cret-pw" not in everything and "viewer" not in everything
