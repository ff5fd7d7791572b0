"""The stream grid on real clips: a real Pipeline (threads backend), real model verdicts, offscreen painting."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QImage
from PyQt5.QtWidgets import QApplication

from app.cli import build_parser, config_from_args
from app.streams import run_grid_streams
from realtime.colors import RED, score_color
from realtime.verdicts import percent
from services.multistream.config import AlertSettings, StreamSettings
from ui.grid import QUIET_BORDER, StreamTile
from ui.grid_session import GridSession
from ui.grid_window import GridWindow

WAIT_MS = 20_000
PASSWORD = "s3cret-pw"
REFUSED_RTSP = f"rtsp://viewer:{PASSWORD}@127.0.0.1:9/live"  # nothing listens on port 9: fails at once


def pixels(image: QImage) -> np.ndarray:
    """A grabbed widget as an H x W x 3 RGB array."""
    image = image.convertToFormat(QImage.Format_RGB888)
    data = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), dtype=np.uint8)
    return data.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3].reshape(
        image.height(), image.width(), 3
    )


def grid_threads() -> list[str]:
    prefixes = ("capture[", "faces[", "inference", "grid-watcher", "alert-commands")
    return [t.name for t in threading.enumerate() if t.name.startswith(prefixes)]


def scored(tile: StreamTile, faces: int) -> bool:
    """The tile shows a frame with ``faces`` boxes, every one of them with a score."""
    overlays = tile.video.overlays
    return len(overlays) == faces and all(overlay.p_fake is not None for overlay in overlays)


def assert_boxes_painted(tile: StreamTile) -> None:
    """Each face's box edges are in its score colour on the painted tile; the face inside is not."""
    view = pixels(tile.video.grab().toImage())
    for overlay in tile.video.overlays:
        assert overlay.color == score_color(overlay.p_fake, tile.threshold)
        rect = tile.video.to_widget(overlay.box)
        middle_y = round(rect.center().y())
        for x in (round(rect.left()), round(rect.right())):
            edge = view[middle_y, x - 1 : x + 2].astype(int)
            assert np.abs(edge - overlay.color).max(axis=1).min() <= 40, (tile.name, edge, overlay.color)
        centre = view[middle_y, round(rect.center().x())].astype(int)
        assert np.abs(centre - overlay.color).max() > 60


def run_grid_polling(args: argparse.Namespace, poll: Callable[[], None], every_ms: int) -> int:
    """run_grid with ``poll`` called on the GUI thread every ``every_ms``; windows close after 30 s at worst."""
    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(every_ms)
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(QApplication.closeAllWindows)
    safety.start(30_000)
    try:
        return run_grid_streams(args, config_from_args(args))
    finally:
        timer.stop()
        safety.stop()


def alert_count(tile: StreamTile) -> int:
    """The alerts the tile's figures line says its stream raised."""
    match = re.search(r" · (\d+) alerts? · ", tile.figures.text())
    assert match is not None, tile.figures.text()
    return int(match.group(1))


def border_color(tile: StreamTile) -> tuple[int, ...]:
    image = pixels(tile.grab().toImage())
    return tuple(int(v) for v in image[image.shape[0] // 2, 1])


@pytest.fixture
def open_grid(qtbot, small_engine) -> Iterator[Callable[..., GridWindow]]:
    """Starts a GridWindow on streams (JSON lines into ``window.out``); at the end closes it and checks the threads."""
    windows: list[GridWindow] = []

    def factory(streams: list[StreamSettings], **config) -> GridWindow:
        out = io.StringIO()
        session = GridSession(streams, small_engine(**config), out)
        window = GridWindow(session)
        window.out = out
        qtbot.addWidget(window)
        session.start()
        window.show()
        windows.append(window)
        return window

    yield factory
    for window in windows:
        window.close()
    assert not grid_threads()


@pytest.fixture(scope="module")
def live_clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """20 s of one face and 20 s of two faces: streams that are still live for as long as a test watches them.

    The test below checks what a running stream shows (live figures, threads alive until the window closes);
    with the 2-3 s clips of the other tests, a slow first alert on busy cores let a stream end first, and the
    "running" figures it waited for never came.
    """
    from realtime.sources.demo import render_face_frames, write_video

    folder = tmp_path_factory.mktemp("live_clips")
    one = write_video(folder / "one_face_20s.mp4", render_face_frames(500))
    left = render_face_frames(500, width=400, height=360, phase=0.0)
    right = render_face_frames(500, width=400, height=360, phase=1.5)
    two = write_video(
        folder / "two_faces_20s.mp4",
        [np.concatenate([a, b[:, ::-1]], axis=1) for a, b in zip(left, right, strict=True)],
    )
    return str(one), str(two)


def test_tiles_show_live_boxes_figures_and_a_red_border_on_alert(open_grid, qtbot, live_clips):
    one_face, two_faces = live_clips
    window = open_grid(
        [
            StreamSettings("hot", one_face, threshold=0.01, alert=AlertSettings(min_windows=2)),
            StreamSettings("calm", two_faces, threshold=0.99, alert=AlertSettings(min_windows=1)),
        ],
        realtime=True,  # paced like live feeds: 20 s each, longer than the test watches them
    )
    hot, calm = window.tiles["hot"], window.tiles["calm"]
    assert border_color(hot) == QUIET_BORDER
    # Until the alert, no periodic refresh of the figures: what they say then, the alert itself wrote.
    window._timer.stop()
    qtbot.waitUntil(lambda: scored(hot, 1) and scored(calm, 2) and hot.alerting, timeout=WAIT_MS)

    assert_boxes_painted(hot)
    assert_boxes_painted(calm)
    assert {overlay.color for overlay in hot.video.overlays} == {RED}  # the untrained model scores about 0.5
    assert all(overlay.color != RED for overlay in calm.video.overlays)
    assert border_color(hot) == RED and border_color(calm) == QUIET_BORDER and not calm.alerting
    # The tile counts the alert as its border turns red, not at the next periodic refresh of the figures.
    assert alert_count(hot) == 1 and alert_count(calm) == 0

    # The alert is the headless one: a JSON line on the stream's output and an entry naming the face.
    alerts = [json.loads(line) for line in window.out.getvalue().splitlines() if '"type": "alert"' in line]
    assert [(a["stream"], a["track_id"], a["windows_above"]) for a in alerts] == [("hot", 1, 2)]
    entry = window.alert_list.item(0)
    stream_line, face_line, verdict_line = entry.text().split("\n")
    assert (
        stream_line.endswith("  hot") and face_line == f"face #1  p_fake {alerts[0]['p_fake']:.2f}  (2 windows ≥ 0.01)"
    )
    assert verdict_line == f"so far: {alerts[0]['headline']}" and alerts[0]["verdict"] == "untrained"
    assert not entry.icon().isNull()  # the face's thumbnail
    qtbot.mouseClick(hot.video, Qt.LeftButton)  # acknowledges the alert
    assert not hot.alerting and border_color(hot) == QUIET_BORDER
    assert alert_count(hot) == 1  # acknowledged, still counted
    window._timer.start()

    # fps counts from one refresh to the next, so the first refresh says 0.0.
    figures = re.compile(r"(\d+\.\d) fps · (\d+) ms · (\d) faces? · (\d) alerts? · running")

    def measured(tile: StreamTile) -> bool:
        match = figures.fullmatch(tile.figures.text())
        return match is not None and float(match.group(1)) > 0

    qtbot.waitUntil(lambda: measured(hot) and measured(calm), timeout=WAIT_MS)
    assert figures.fullmatch(calm.figures.text()).groups()[2:] == ("2", "0")
    assert figures.fullmatch(hot.figures.text()).groups()[2:] == ("1", "1")
    assert hot.bar.value is not None and hot.bar.value >= 0.01

    # A double-click enlarges one stream to the whole grid; another one shows them all again.
    small_width = calm.width()
    qtbot.mouseDClick(calm.video, Qt.LeftButton)
    assert window.focused == "calm" and hot.isHidden() and not calm.isHidden()
    qtbot.waitUntil(lambda: calm.width() > small_width * 1.5, timeout=2000)
    qtbot.mouseDClick(calm.video, Qt.LeftButton)
    assert window.focused is None and not hot.isHidden()

    assert window.session.running and grid_threads()
    window.close()  # joins the engine threads (JOIN_TIMEOUT_S each at worst): one that hangs is still alive after it
    assert not grid_threads()


def test_a_busy_gui_skips_to_the_newest_frame_of_each_stream(open_grid, qtbot, one_face_clip):
    # Unpaced files never drop frames in the engine; a GUI that falls behind must not replay them.
    window = open_grid([StreamSettings("a", str(one_face_clip)), StreamSettings("b", str(one_face_clip))])
    tiles = list(window.tiles.values())
    qtbot.waitUntil(lambda: all(tile.frames_shown for tile in tiles), timeout=WAIT_MS)
    before = {tile.name: (tile.frames_shown, tile.shown.frame.index) for tile in tiles}

    def analysed_past(margin: int) -> bool:
        stats = window.session.runner.stats()
        return all(stats[name].frames_analyzed > index + margin for name, (_, index) in before.items())

    # The GUI thread is busy (no event is processed here) while the engine analyses a few more frames of each.
    deadline = time.monotonic() + WAIT_MS / 1000
    while not analysed_past(5) and time.monotonic() < deadline:  # frame index + 4 handed over at least
        time.sleep(0.02)
    window._show_frames()  # the next GUI pass
    for tile in tiles:
        shown, index = before[tile.name]
        assert tile.frames_shown == shown + 1  # one frame per stream and pass, however many were analysed
        assert tile.shown.frame.index > index + 3
    qtbot.waitUntil(lambda: not window.session.running, timeout=WAIT_MS)
    qtbot.wait(50)  # the last queued frames_ready
    stats = window.session.runner.stats()
    for tile in tiles:
        assert stats[tile.name].frames_analyzed == 75 and tile.frames_shown < 75
        assert tile.shown.frame.index == 74  # the stream's last frame is the one left on screen


def test_run_grid_prints_the_headless_lines_and_summaries_when_closed(
    qapp, capsys, tmp_path, one_face_clip, two_face_clip, small_checkpoint
):
    streams_file = tmp_path / "streams.yaml"
    streams_file.write_text(
        f"- {{name: one, source: {one_face_clip}}}\n"
        f"- {{name: two, source: {two_face_clip}, detect_every: 3}}\n"
        f"- {{name: cam, source: '{REFUSED_RTSP}'}}\n"
    )
    argv = ["--streams", str(streams_file), "--model", str(small_checkpoint), "--device", "cpu"]
    args = build_parser().parse_args([*argv, "--runtime", "torch", "--threads", "1", "--reconnect-attempts", "0"])
    seen: dict[str, object] = {}

    def close_when_done() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, GridWindow) and w.isVisible()]
        if not windows:
            return
        window = windows[0]
        window.refresh()
        if window.session.running or len(window._ended) < 3:
            return
        seen["titles"] = {name: tile.title.text() for name, tile in window.tiles.items()}
        seen["messages"] = {name: tile.video.message for name, tile in window.tiles.items()}
        seen["faces_shown"] = {name: len(tile.video.overlays) for name, tile in window.tiles.items()}
        seen["status"] = window.status_label.text()
        window.close()

    code = run_grid_polling(args, close_when_done, 100)
    captured = capsys.readouterr()
    assert code == 1  # the camera failed; the files ran to their end
    assert not grid_threads()
    assert PASSWORD not in captured.out + captured.err + json.dumps(seen)

    records = [json.loads(line) for line in captured.out.splitlines()]
    summaries = [r for r in records if r["type"] == "summary"]
    assert [s["stream"] for s in summaries] == ["one", "two", "cam"]
    assert [s["frames_analyzed"] for s in summaries] == [75, 50, 0]
    assert not any(s.get("interrupted") for s in summaries)  # every stream ended before the window closed
    assert summaries[2]["source"] == "rtsp://***@127.0.0.1:9/live"
    verdict_streams = {r["stream"] for r in records if r["type"] == "verdict"}
    assert verdict_streams == {"one", "two"}
    assert captured.err.strip().splitlines()[-1] == (
        "error: stream cam: cannot open rtsp://***@127.0.0.1:9/live: Connection refused"
    )

    assert seen["titles"]["cam"] == "<b>cam</b>  rtsp://***@127.0.0.1:9/live"
    assert seen["messages"] == {
        "one": "stream ended",
        "two": "stream ended",
        "cam": "failed: cannot open rtsp://***@127.0.0.1:9/live: Connection refused",
    }
    assert seen["faces_shown"]["two"] == 2 and seen["faces_shown"]["one"] == 1
    assert "3 streams, 0 running" in seen["status"] and "UNTRAINED MODEL" in seen["status"]


def test_run_grid_refuses_usage_mistakes_before_loading_anything(qapp, capsys, tmp_path):
    streams_file = tmp_path / "streams.yaml"
    streams_file.write_text("- {name: a, source: x.mp4, threshold: 2}\n")
    args = build_parser().parse_args(["--streams", str(streams_file)])
    before = QApplication.topLevelWidgets()
    assert run_grid_streams(args, config_from_args(args)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "threshold must be" in err and err.count("\n") == 1
    assert QApplication.topLevelWidgets() == before  # no window opened


def test_sigterm_closes_the_grid_and_prints_interrupted_summaries(
    qapp, capsys, tmp_path, one_face_clip, small_checkpoint
):
    streams_file = tmp_path / "streams.yaml"
    streams_file.write_text(f"- {{name: a, source: {one_face_clip}}}\n- {{name: b, source: {one_face_clip}}}\n")
    argv = ["--streams", str(streams_file), "--model", str(small_checkpoint), "--device", "cpu", "--realtime"]
    args = build_parser().parse_args([*argv, "--runtime", "torch", "--threads", "1", "--fail-on-interrupt"])

    sent: list[bool] = []

    def terminate_once_scoring() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, GridWindow) and w.isVisible()]
        if not sent and windows and all(scored(tile, 1) for tile in windows[0].tiles.values()):
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)  # run_grid turns it into closing the window

    code = run_grid_polling(args, terminate_once_scoring, 50)
    assert code == 130  # --fail-on-interrupt, as headless
    assert not grid_threads()
    summaries = [r for r in map(json.loads, capsys.readouterr().out.splitlines()) if r["type"] == "summary"]
    assert [(s["stream"], s.get("interrupted")) for s in summaries] == [("a", True), ("b", True)]
    assert all(0 < s["frames_analyzed"] < 75 and s["windows_scored"] > 0 for s in summaries)


def test_a_stream_that_ended_keeps_its_final_verdict_and_is_not_interrupted_on_close(
    qtbot, tmp_path, trained_small_checkpoint
):
    from realtime.config import EngineConfig
    from realtime.engine import build_engine
    from realtime.sources.demo import render_face_frames, write_video

    short_frames = render_face_frames(25)
    short = write_video(tmp_path / "short.mp4", short_frames)  # 1 s
    # 10 s without a face: its verdict so far ("no face") can never be mistaken for the short stream's.
    long = write_video(tmp_path / "long.mp4", [np.full_like(short_frames[0], 90)] * 250)
    engine = build_engine(EngineConfig(device="cpu", torch_threads=1, realtime=True), trained_small_checkpoint)
    out = io.StringIO()
    session = GridSession([StreamSettings("short", str(short)), StreamSettings("long", str(long))], engine, out)
    window = GridWindow(session)
    qtbot.addWidget(window)
    session.start()
    window.show()
    tile = window.tiles["short"]
    try:
        qtbot.waitUntil(lambda: tile.ended and tile.bar.text is not None and scored(tile, 1), timeout=WAIT_MS)
        assert session.running  # the long stream goes on
        qtbot.wait(2500)  # past the couple of seconds after which a live score counts as stale
        window.refresh()
        kept_text, kept_value = tile.bar.text, tile.bar.value
        assert scored(tile, 1)  # the last frame's box carries the score of the windows that came after it
    finally:
        window.close()
    session.finish(interrupted=window.closed_while_running)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    summaries = {r["stream"]: r for r in records if r["type"] == "summary"}
    assert "interrupted" not in summaries["short"] and summaries["long"]["interrupted"] is True
    # What the tile kept is the short stream's own final verdict: its video score recomputed from its verdict
    # lines (mean over half-second moments of the most suspicious window), and the headline its summary prints.
    moments: dict[int, float] = {}
    for v in (r for r in records if r["type"] == "verdict" and r["stream"] == "short"):
        moment = int(v["end_pts_s"] // 0.5)
        moments[moment] = max(moments.get(moment, 0.0), v["p_fake"])
    video_p_fake = sum(moments.values()) / len(moments)
    short = summaries["short"]
    assert short["verdict"] in ("real", "uncertain", "fake")
    assert short["video_p_fake"] == pytest.approx(video_p_fake, abs=1e-3)
    assert kept_value == pytest.approx(video_p_fake, abs=1e-3)
    assert kept_text == f"{short['headline']} · video score {percent(kept_value)}"


def test_a_stream_that_breaks_reconnects_in_its_tile_without_showing_its_credentials(open_grid, qtbot, one_face_clip):
    from tests.support.rtsp import RtspServer, require_rtsp_server

    require_rtsp_server()
    server = RtspServer(one_face_clip, user="viewer", password=PASSWORD, loop=True)
    server.start()
    masked = f"rtsp://***@127.0.0.1:{server.port}/stream"
    try:
        # Four attempts (0.5 + 1 + 2 + 4 s apart): time enough for the server to come back.
        window = open_grid([StreamSettings("cam", server.url_with_credentials())], reconnect_attempts=4)
        tile = window.tiles["cam"]
        qtbot.waitUntil(lambda: scored(tile, 1), timeout=WAIT_MS)
        assert tile.title.text() == f"<b>cam</b>  {masked}" and tile.title.toolTip() == masked
        server.kill()
        qtbot.waitUntil(lambda: tile.figures.text().endswith(" · reconnecting"), timeout=WAIT_MS)
        server.start()  # same port
        # The tile goes on with the stream: a frame of the next connection, its face boxed and scored again.
        qtbot.waitUntil(lambda: tile.shown.frame.clip_id >= 1 and scored(tile, 1), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: tile.figures.text().endswith(" · reconnected"), timeout=WAIT_MS)
        assert window.session.running and not tile.ended
        shown = "\n".join(
            [
                tile.title.text(),
                tile.title.toolTip(),
                tile.figures.text(),
                tile.video.message,
                window.status_label.text(),
            ]
        )
    finally:
        server.stop()
    window.close()
    records = [json.loads(line) for line in window.out.getvalue().splitlines()]
    events = [r["event"] for r in records if r["type"] == "status"]
    assert events[0] == "reconnecting" and events.count("reconnected") == 1
    assert {r["source"] for r in records} == {masked} and {r["stream"] for r in records} == {"cam"}
    assert PASSWORD not in window.out.getvalue() + shown and "viewer" not in window.out.getvalue() + shown
