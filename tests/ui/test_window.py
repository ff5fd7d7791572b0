"""The live window on a real clip: real decoding, real face tracking, real model verdicts, offscreen painting."""

from __future__ import annotations

import re
import sys
import threading
import time

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QImage

import ui.window as ui_window
from realtime.colors import GREEN, RED, score_color
from realtime.sources.av_source import AvSource
from ui.window import WindowSettings

WAIT_MS = 30_000


def pixels(image: QImage) -> np.ndarray:
    """A grabbed widget as an H x W x 3 RGB array."""
    image = image.convertToFormat(QImage.Format_RGB888)
    data = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), dtype=np.uint8)
    return data.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3].reshape(
        image.height(), image.width(), 3
    )


class SteppedClock:
    """Stands in for ui.window's ``time`` module: ``monotonic()`` is what the test sets, the rest is real."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name: str):
        return getattr(time, name)


def decoded_frames(path) -> list:
    source = AvSource(str(path), live=False)
    source.open()
    try:
        return list(source.frames(threading.Event()))
    finally:
        source.close()


@pytest.mark.parametrize(("threshold", "box_color"), [(0.01, RED), (0.99, GREEN)])
def test_face_box_and_gauge_show_real_verdicts_in_the_threshold_colour(
    open_window, qtbot, one_face_clip, tmp_path, threshold, box_color
):
    window = open_window(str(one_face_clip), threshold=threshold)
    qtbot.waitUntil(lambda: bool(window.shown_faces) and window.face_gauge.value is not None, timeout=WAIT_MS)
    window.pause()
    qtbot.waitUntil(lambda: not window.session.running, timeout=WAIT_MS)
    window.video.set_overlays(window._overlays())

    store = window.session.store
    (overlay,) = window.video.overlays
    verdict = store.verdict_at(overlay.track_id, window.shown_pts_s)
    assert verdict is not None and overlay.p_fake == verdict.p_fake == window.face_gauge.value
    assert overlay.selected and overlay.color == score_color(verdict.p_fake, threshold)
    # The box is the tracked face at the frame shown, on the face of the decoded frame.
    assert window.shown_faces == store.faces_at(window.shown_pts_s)
    qtbot.waitUntil(lambda: window.stream_gauge.value == store.stream_p_fake(), timeout=1000)

    window.grab().save(str(tmp_path / "window.png"))
    screenshot = QImage(str(tmp_path / "window.png"))
    assert not screenshot.isNull()
    view = pixels(window.video.grab().toImage())
    rect = window.video.to_widget(overlay.box)
    middle_y = round(rect.center().y())
    left_edge = view[middle_y, round(rect.left()) - 1 : round(rect.left()) + 2]
    right_edge = view[middle_y, round(rect.right()) - 1 : round(rect.right()) + 2]
    for edge in (left_edge, right_edge):
        assert np.abs(edge.astype(int) - box_color).max() <= 40, edge
    # Inside the box is the face itself, not box colour.
    centre = view[middle_y, round(rect.center().x())].astype(int)
    assert np.abs(centre - box_color).max() > 60
    gauge = pixels(window.face_gauge.grab().toImage()).reshape(-1, 3).astype(int)
    assert (np.abs(gauge - box_color).max(axis=1) <= 40).sum() > 300  # the dial's arc in the same colour
    assert window.face_gauge.caption == "face #1 (most suspicious)"
    qtbot.mouseClick(window.video, Qt.LeftButton, pos=rect.center().toPoint())
    assert window.selected_track == 1 and window.face_gauge.caption == "face #1 (clicked)"
    if threshold > 0.9:
        assert not window.alerts  # the untrained model scores about 0.5: no face stays above 0.99


def test_seek_step_and_segments_move_playback_and_timeline(open_window, qtbot, one_face_clip, monkeypatch):
    window = open_window(str(one_face_clip), threshold=0.01)
    qtbot.waitUntil(lambda: not window.session.running, timeout=WAIT_MS)
    window.pause()
    frames = decoded_frames(one_face_clip)
    playback = window.session.playback
    assert playback.duration_s == pytest.approx(3.0)

    def shows(pts_s: float) -> bool:
        return window.shown_pts_s is not None and abs(window.shown_pts_s - pts_s) < 1e-3

    window.seek(2.0)
    qtbot.waitUntil(lambda: shows(2.0), timeout=5000)
    assert np.abs(window.video._array.astype(int) - frames[50].image).mean() < 1.0
    assert window.transport.slider.value() == 2000 and window.transport.time_label.text() == "00:02.0"
    window._refresh_panels()
    assert window.timeline.playhead.value() == pytest.approx(2.0)
    box_at_2s = window.shown_faces[0].box

    window.step()
    qtbot.waitUntil(lambda: shows(frames[51].pts_s), timeout=5000)
    window.step_back()
    qtbot.waitUntil(lambda: shows(2.0), timeout=5000)

    window.seek(0.4)
    qtbot.waitUntil(lambda: shows(0.4), timeout=5000)
    assert np.abs(window.video._array.astype(int) - frames[10].image).mean() < 1.0
    box_at_04s = window.shown_faces[0].box
    assert abs(box_at_2s.left - box_at_04s.left) > 20  # the face glides: the box follows the frame shown
    window._refresh_panels()
    assert window.timeline.playhead.value() == pytest.approx(0.4)

    # The timeline spans the whole file and holds every verdict of the face.
    verdicts = window.session.store.series()
    assert [s.track_id for s in verdicts] == [1]
    assert window.timeline.curve_points(1) == len(verdicts[0].p_fake) >= 14
    x_range = window.timeline.getPlotItem().viewRange()[0]
    assert x_range[0] == pytest.approx(0.0, abs=0.05) and x_range[1] == pytest.approx(3.0, abs=0.05)

    ((start, end),) = window.session.store.suspicious_segments(0.01)
    window.seek(0.0)
    qtbot.waitUntil(lambda: shows(0.0), timeout=5000)
    window.next_segment()
    qtbot.waitUntil(lambda: window.shown_pts_s is not None and abs(window.shown_pts_s - start) < 0.05, timeout=5000)
    window.seek(end)
    qtbot.waitUntil(lambda: window.shown_pts_s is not None and window.shown_pts_s > start + 1, timeout=5000)
    window.previous_segment()
    qtbot.waitUntil(lambda: window.shown_pts_s is not None and abs(window.shown_pts_s - start) < 0.05, timeout=5000)

    # Playback speed: at 4x, half a second of playing moves the playhead two seconds on. The window's clock is
    # moved by hand, so this checks the speed, not how fast this machine paints.
    clock = SteppedClock()
    monkeypatch.setattr(ui_window, "time", clock)
    window.transport.speed_box.setCurrentIndex(window.transport.speed_box.findData(4.0))
    window.seek(0.0)
    qtbot.waitUntil(lambda: shows(0.0), timeout=5000)
    window.play()
    qtbot.wait(50)  # ticks while the clock stands still move nothing
    assert window.position_s == 0.0 and shows(0.0)
    clock.now += 0.5
    qtbot.waitUntil(lambda: shows(2.0), timeout=5000)
    assert window.position_s == pytest.approx(2.0)


def test_alert_fires_with_banner_thumbnail_and_command(open_window, qtbot, one_face_clip, tmp_path):
    record = tmp_path / "alert.txt"
    hook = (  # writes then renames, so the test never reads a half-written file
        "import os, pathlib, sys; tmp = pathlib.Path(sys.argv[1] + '.tmp'); tmp.write_text("
        "os.environ['DEEPFAKE_ALERT_TRACK_ID'] + ' ' + os.environ['DEEPFAKE_ALERT_P_FAKE']); tmp.replace(sys.argv[1])"
    )
    settings = WindowSettings(alert_hold_s=0.5, alert_command=(sys.executable, "-c", hook, str(record)))
    window = open_window(str(one_face_clip), settings, threshold=0.01)
    qtbot.waitUntil(lambda: window.alert_list.count() == 1, timeout=WAIT_MS)
    (alert,) = window.alerts
    assert alert.track_id == 1 and alert.p_fake >= 0.01 and alert.at_pts_s - alert.since_pts_s >= 0.5
    assert window.banner.isVisible() and "face #1" in window.banner.text()
    item = window.alert_list.item(0)
    assert not item.icon().isNull() and "face #1" in item.text() and "00:00." in item.text()
    qtbot.waitUntil(record.exists, timeout=10_000)
    track_id, p_fake = record.read_text().split()
    assert track_id == "1" and float(p_fake) == pytest.approx(alert.p_fake, abs=1e-4)
    # One alert per episode: the face stays above the threshold to the end without a second one.
    qtbot.waitUntil(lambda: not window.session.running, timeout=WAIT_MS)
    qtbot.wait(300)
    assert window.alert_list.count() == 1


def test_live_source_shows_analysed_frames_and_closes_with_threads_joined(
    open_window, qtbot, one_face_clip, engine_threads
):
    window = open_window(str(one_face_clip), realtime=True)  # paced like a live feed: 3 s
    assert not window.transport.isVisible() and window.session.playback is None
    qtbot.waitUntil(lambda: bool(window.shown_faces) and window.face_gauge.value is not None, timeout=WAIT_MS)
    assert window.session.running and engine_threads()
    window._refresh_status()
    status = window.status_label.text()
    # The window's engine is the engine every entry point builds: ONNX Runtime on the CPU.
    figures = r"source [\d.]+ fps  \|  analysis [\d.]+ fps  \|  dropped \d+  \|  latency \d+ ms"
    assert re.search(figures + r"  \|  cpu · onnxruntime", status)
    assert window.engine.runtime == "onnxruntime"
    window.close()  # joins every engine thread (a bounded wait: a thread that hangs is still alive after it)
    assert not engine_threads()


def test_the_window_opens_network_streams_with_the_reconnect_policy_of_the_flags(small_engine):
    from realtime.sources.reconnect import ReconnectingSource
    from ui.session import AnalysisSession

    engine = small_engine(reconnect_attempts=7, reconnect_max_delay_s=3.0)
    session = AnalysisSession("rtsp://127.0.0.1:9/camera", engine)  # built, never started: nothing connects
    assert isinstance(session.source, ReconnectingSource)
    assert (session.source.policy.max_attempts, session.source.policy.max_delay_s) == (7, 3.0)
    assert session.close()
