"""The live window on network streams from a real RTSP server on 127.0.0.1: reconnects, giving up, and
credentials that never reach the title, the banner, the status bar or the summary."""

from __future__ import annotations

import json

import pytest

import ui.window as ui_window
from tests.support.rtsp import RtspServer, require_rtsp_server

WAIT_MS = 30_000
USER, PASSWORD = "viewer", "s3cret-pw"


@pytest.fixture(scope="module", autouse=True)
def rtsp_available() -> None:
    require_rtsp_server()


def shown_text(window: ui_window.MainWindow) -> str:
    """Everything the window shows in words, and the summary it emitted."""
    window._refresh_status()
    texts = [window.windowTitle(), window.banner.text(), window.status_label.text(), window.verdict_label.text()]
    return "\n".join(texts) + json.dumps(window.final_summary)


def test_the_window_reconnects_a_stream_then_gives_up_and_never_shows_its_credentials(
    open_window, qtbot, one_face_clip
):
    server = RtspServer(one_face_clip, user=USER, password=PASSWORD, loop=True)
    server.start()
    masked = f"rtsp://***@127.0.0.1:{server.port}/stream"
    try:
        # Four attempts (0.5 + 1 + 2 + 4 s apart): time enough for the server to come back.
        window = open_window(server.url_with_credentials(), reconnect_attempts=4, read_timeout_s=2.0)
        session = window.session
        qtbot.waitUntil(lambda: window.shown_pts_s is not None and bool(window.shown_faces), timeout=WAIT_MS)
        assert window.windowTitle() == f"Deepfake analyzer — {masked}"

        server.kill()
        qtbot.waitUntil(lambda: bool(session.stats().outages), timeout=WAIT_MS)
        server.start()  # same port
        qtbot.waitUntil(lambda: session.stats().reconnects == 1, timeout=WAIT_MS)
        back_at = session.stats().outages[0]["end_s"]
        # The window goes on showing the stream: frames from after the outage, with their faces.
        qtbot.waitUntil(lambda: window.shown_pts_s > back_at and bool(window.shown_faces), timeout=WAIT_MS)
        assert session.running and not window.banner.isVisible()

        server.kill()  # for good
        qtbot.waitUntil(lambda: window.final_summary is not None, timeout=WAIT_MS)
    finally:
        server.stop()
    error = session.error()
    assert error.startswith(f"gave up on {masked} after 4 reconnect attempts")
    assert window.banner.isVisible() and window.banner.text() == error
    summary = window.final_summary
    assert summary["source"] == masked and summary["reconnects"] == 1 and len(summary["outages"]) == 2
    assert summary["error"] == error and summary["windows_scored"] > 0
    everything = shown_text(window)
    assert USER not in everything and PASSWORD not in everything


def test_a_user_without_a_password_is_not_shown_either(open_window, qtbot, one_face_clip):
    with RtspServer(one_face_clip, loop=True) as server:  # no authentication: the user name is simply sent
        window = open_window(server.url.replace("rtsp://", "rtsp://admin@"), reconnect_attempts=0)
        qtbot.waitUntil(lambda: window.shown_pts_s is not None and bool(window.shown_faces), timeout=WAIT_MS)
        assert window.windowTitle() == f"Deepfake analyzer — rtsp://***@127.0.0.1:{server.port}/stream"
        assert "admin" not in shown_text(window)


def test_a_refused_stream_fails_with_its_error_masked(open_window, qtbot):
    url = f"rtsp://{USER}:{PASSWORD}@127.0.0.1:9/live"  # nothing listens on port 9
    window = open_window(url, reconnect_attempts=3)  # a first connection that fails is not retried
    with qtbot.waitSignal(window.source_failed, timeout=WAIT_MS) as failed:
        pass  # the failure reaches the window through the event loop, which runs from here
    (message,) = failed.args
    assert message == "cannot open rtsp://***@127.0.0.1:9/live: Connection refused"
    assert window.windowTitle() == "Deepfake analyzer — rtsp://***@127.0.0.1:9/live"
    assert USER not in shown_text(window) and PASSWORD not in shown_text(window)


def test_a_source_the_dialog_names_but_that_cannot_exist_is_announced_masked(qtbot, small_engine, monkeypatch):
    class ChosenSource:
        Accepted = 1

        def __init__(self, *args) -> None:
            pass

        def exec_(self) -> int:
            return self.Accepted

        def spec(self) -> str:
            return f"ftp2://{USER}:{PASSWORD}@cam.local/live"

    window = ui_window.MainWindow(small_engine())
    qtbot.addWidget(window)
    window.show()
    monkeypatch.setattr(ui_window, "SourceDialog", ChosenSource)
    window.pick_source()
    assert window.banner.isVisible() and window.session is None
    assert window.banner.text().startswith("cannot open source: unknown source scheme in 'ftp2://***@cam.local/live'")
    assert USER not in window.banner.text() and PASSWORD not in window.banner.text()
    assert not any("ftp2" in entry for entry in window.recent.entries())  # not remembered either
    window.close()
