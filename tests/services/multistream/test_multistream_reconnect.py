"""``--streams`` headless with a camera that goes away and comes back: the broken stream reconnects while the
others go on, and its user and password appear in no line, warning or summary."""

from __future__ import annotations

import json

import pytest

from tests.support.live_process import LiveProcess
from tests.support.rtsp import RtspServer, require_rtsp_server

USER, PASSWORD = "viewer", "s3cret-pw"


@pytest.fixture(scope="module", autouse=True)
def rtsp_available() -> None:
    require_rtsp_server()


def of(stream: str, kind: str, event: str | None = None):
    return lambda r: r["stream"] == stream and r["type"] == kind and (event is None or r.get("event") == event)


def test_a_camera_that_goes_away_reconnects_while_the_other_streams_go_on(tmp_path, one_face_clip, small_checkpoint):
    server = RtspServer(one_face_clip, user=USER, password=PASSWORD, loop=True)
    server.start()
    masked = f"rtsp://***@127.0.0.1:{server.port}/stream"
    streams = tmp_path / "streams.yaml"
    streams.write_text(
        f"- {{name: cam, source: '{server.url_with_credentials()}'}}\n- {{name: file, source: {one_face_clip}}}\n"
    )
    # Four attempts (0.5 + 1 + 2 + 4 s apart): time enough for the server to come back.
    live = LiveProcess("--streams", str(streams), "--model", str(small_checkpoint), "--reconnect-attempts", "4")
    try:
        live.wait_for(of("cam", "verdict"), timeout_s=60)
        server.kill()
        outage = live.wait_for(of("cam", "status", "reconnecting"), timeout_s=30)
        server.start()  # same port
        live.wait_for(of("cam", "status", "reconnected"), timeout_s=30)
        after = live.wait_for(of("cam", "verdict"), timeout_s=30)
        code, stderr = live.finish()
    finally:
        server.stop()
        if live.process.poll() is None:
            live.process.kill()
    assert code == 0, stderr
    assert after["start_pts_s"] > outage["at_s"]  # scored from the new connection's frames
    summaries = {r["stream"]: r for r in live.records if r["type"] == "summary"}
    cam, file = summaries["cam"], summaries["file"]
    assert cam["source"] == masked and cam["reconnects"] == 1 and len(cam["outages"]) == 1
    assert "error" not in file and "reconnects" not in file and file["windows_scored"] > 0  # the file, untouched
    assert {r["source"] for r in live.records if r["stream"] == "cam"} == {masked}
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: cam: ")]
    assert warnings and all(line.endswith(" s") and "reconnecting in" in line for line in warnings)
    everything = json.dumps(live.records) + stderr
    assert PASSWORD not in everything and USER not in everything
