"""The main window: plays the source with face overlays and shows scores, timeline, alerts and engine status."""

from __future__ import annotations

import shlex
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QCloseEvent
from PyQt5.QtWidgets import (
    QAction,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from models.registry import LoadedModel
from realtime.colors import score_color
from realtime.config import EngineConfig
from realtime.frames import TrackedFace, Verdict
from realtime.inference import CropScorer
from realtime.sources.base import SourceError
from ui.alerts import Alert, AlertMonitor, run_alert_command
from ui.recent import RecentSources, default_settings
from ui.session import AnalysisSession
from ui.source_dialog import SourceDialog
from ui.widgets import AlertBanner, AlertList, FaceOverlay, ScoreGauge, TimelinePlot, VideoView, format_time

LIVE_TIMELINE_S = 60.0  # a live source's timeline shows the last minute
PANEL_REFRESH_MS = 100  # timeline, playhead and stream gauge
STATUS_REFRESH_MS = 1000
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
MAX_ALERTS = 200  # alerts kept in the list; older ones scroll away


@dataclass
class WindowSettings:
    """What the window adds to the engine's settings."""

    alert_hold_s: float = 2.0  # a face must stay at or above the threshold this long (stream time) to alert
    alert_command: Sequence[str] = ()  # run on each alert, with DEEPFAKE_ALERT_* in its environment; empty: none


class MainWindow(QMainWindow):
    """Shows one source at a time; ``open_source`` replaces it. Closing joins every engine thread."""

    source_failed = pyqtSignal(str)  # a source that ended with an error before its first frame

    def __init__(
        self,
        loaded: LoadedModel,
        scorer: CropScorer,
        config: EngineConfig,
        settings: WindowSettings | None = None,
    ) -> None:
        super().__init__()
        self.recent = RecentSources(default_settings())
        self.loaded = loaded
        self.scorer = scorer
        self.config = config
        self.settings = settings or WindowSettings()
        self.session: AnalysisSession | None = None
        self.monitor: AlertMonitor | None = None
        self.alerts: deque[Alert] = deque(maxlen=MAX_ALERTS)
        self.selected_track: int | None = None  # chosen by a click; None: the most suspicious face
        self.shown_pts_s: float | None = None
        self.shown_faces: tuple[TrackedFace, ...] = ()
        self.position_s = 0.0  # file playhead
        self.playing = False
        self.speed = 1.0
        self.waiting_for_analysis = False
        self._want_frame = False  # paused: show the next decoded frame (after a seek or a step)
        self._last_tick = time.monotonic()
        self._series_version = -1
        self.tick_ms: deque[float] = deque(maxlen=2000)  # GUI-thread cost of each frame update
        self._build()
        self._frame_timer = QTimer(self)
        self._frame_timer.setTimerType(Qt.PreciseTimer)
        self._frame_timer.timeout.connect(self._tick)
        self._panel_timer = QTimer(self)
        self._panel_timer.timeout.connect(self._refresh_panels)
        self._panel_timer.start(PANEL_REFRESH_MS)
        self._status_timer = QTimer(self)
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start(STATUS_REFRESH_MS)

    # ---- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        threshold = self.config.threshold if self.config.threshold is not None else self.loaded.spec.threshold
        self.banner = AlertBanner()
        self.video = VideoView()
        self.video.face_clicked.connect(self.select_face)
        self.timeline = TimelinePlot(threshold)
        self.timeline.seek_requested.connect(self.seek)

        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.toggle_play)
        self.step_back_button = QPushButton("◀|")
        self.step_back_button.setToolTip("previous frame")
        self.step_back_button.clicked.connect(self.step_back)
        self.step_button = QPushButton("|▶")
        self.step_button.setToolTip("next frame")
        self.step_button.clicked.connect(self.step)
        self.previous_segment_button = QPushButton("« suspicious")
        self.previous_segment_button.clicked.connect(self.previous_segment)
        self.next_segment_button = QPushButton("suspicious »")
        self.next_segment_button.clicked.connect(self.next_segment)
        self.previous_segment_button.setToolTip("jump to the previous suspicious segment")
        self.next_segment_button.setToolTip("jump to the next suspicious segment")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.sliderMoved.connect(lambda value: self.seek(value / 1000.0))
        self.time_label = QLabel("00:00.0")
        self.speed_box = QComboBox()
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}×", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(lambda index: self.set_speed(SPEEDS[index]))
        controls = QHBoxLayout()
        for widget in (self.play_button, self.step_back_button, self.step_button, self.previous_segment_button):
            controls.addWidget(widget)
        controls.addWidget(self.slider, 1)
        for widget in (self.time_label, self.next_segment_button, self.speed_box):
            controls.addWidget(widget)
        self.controls = QWidget()
        self.controls.setLayout(controls)

        left = QSplitter(Qt.Vertical)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.banner)
        top_layout.addWidget(self.video, 1)
        top_layout.addWidget(self.controls)
        left.addWidget(top)
        left.addWidget(self.timeline)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)

        self.face_gauge = ScoreGauge("selected face", threshold)
        self.stream_gauge = ScoreGauge("stream", threshold)
        self.hold_box = QDoubleSpinBox()
        self.hold_box.setRange(0.0, 60.0)
        self.hold_box.setSingleStep(0.5)
        self.hold_box.setSuffix(" s")
        self.hold_box.setValue(self.settings.alert_hold_s)
        self.hold_box.valueChanged.connect(self._set_hold)
        self.command_field = QLineEdit(shlex.join(self.settings.alert_command))
        self.command_field.setPlaceholderText("command run on each alert (optional)")
        self.command_field.editingFinished.connect(self._set_command)
        alert_form = QFormLayout()
        alert_form.addRow("alert after", self.hold_box)
        alert_form.addRow("alert command", self.command_field)
        self.alert_list = AlertList(MAX_ALERTS)
        self.alert_list.seek_requested.connect(self.seek)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.face_gauge)
        side_layout.addWidget(self.stream_gauge)
        side_layout.addLayout(alert_form)
        side_layout.addWidget(QLabel("Alerts"))
        side_layout.addWidget(self.alert_list, 1)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)

        toolbar = self.addToolBar("source")
        toolbar.setMovable(False)
        open_action = QAction("Open source…", self)
        open_action.triggered.connect(self.pick_source)
        toolbar.addAction(open_action)
        self.run_action = QAction("Stop analysis", self)
        self.run_action.triggered.connect(self.toggle_analysis)
        toolbar.addAction(self.run_action)

        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label, 1)
        self.resize(1200, 760)

    # ---- sources ------------------------------------------------------------------------------

    def open_source(self, source_spec: str | None) -> None:
        """Starts analysing ``source_spec`` (None: the demo clip), replacing the current source.

        Raises SourceError when it cannot be opened; the current source then keeps running.
        """
        session = AnalysisSession(source_spec, self.loaded, self.scorer, self.config)
        self.close_session()
        self.session = session
        self.monitor = AlertMonitor(session.threshold, self.settings.alert_hold_s)
        session.bridge.frame_ready.connect(self._show_live_frame, Qt.QueuedConnection)
        session.bridge.verdict_ready.connect(self._on_verdict, Qt.QueuedConnection)
        session.bridge.finished.connect(self._on_finished, Qt.QueuedConnection)
        self.alerts.clear()
        self.alert_list.clear()
        self.timeline.clear_series()
        self._series_version = -1
        self.selected_track = None
        self.shown_pts_s = None
        self.shown_faces = ()
        self.position_s = 0.0
        self.controls.setVisible(session.is_file)
        self.setWindowTitle(f"Deepfake analyzer — {session.name}")
        self.run_action.setText("Stop analysis")
        if session.playback is not None:
            self.slider.setRange(0, round(session.playback.duration_s * 1000))
            self.timeline.set_time_range(0.0, session.playback.duration_s)
            self._frame_timer.start(max(5, round(500 * session.playback.frame_period_s / self.speed)))
            self._want_frame = True
        session.start()
        if session.is_file:
            self.play()

    def close_session(self) -> bool:
        """Stops the current source and joins its threads; True when all ended in time."""
        self._frame_timer.stop()
        self.playing = False
        if self.session is None:
            return True
        session, self.session = self.session, None
        for signal in (session.bridge.frame_ready, session.bridge.verdict_ready, session.bridge.finished):
            signal.disconnect()
        return session.close()

    def pick_source(self) -> None:
        dialog = SourceDialog(self.recent.entries(), self)
        if dialog.exec_() != SourceDialog.Accepted:
            return
        spec = dialog.spec()
        try:
            self.open_source(spec)
        except SourceError as exc:
            self.banner.announce(f"cannot open source: {exc}")
            return
        self.recent.remember(spec)

    def toggle_analysis(self) -> None:
        """Stops the running analysis, or starts the current source again."""
        if self.session is not None and self.session.running:
            self.session.stop_analysis()
            return
        spec = self.session.source_spec if self.session is not None else None
        try:
            self.open_source(spec)
        except SourceError as exc:
            self.banner.announce(f"cannot open source: {exc}")

    # ---- frames -------------------------------------------------------------------------------

    def _show_live_frame(self) -> None:
        if self.session is None:
            return
        analyzed = self.session.bridge.take_frame()
        if analyzed is None:
            return
        started = time.perf_counter()
        self._show(analyzed.frame.image, analyzed.frame.pts_s, analyzed.faces)
        self.tick_ms.append((time.perf_counter() - started) * 1000.0)

    def _tick(self) -> None:
        """File playback: advances the playhead (never past the analysis) and shows the frame now due."""
        session = self.session
        if session is None or session.playback is None:
            return
        started = time.perf_counter()
        playback = session.playback
        now = time.monotonic()
        if self.playing:
            target = self.position_s + (now - self._last_tick) * self.speed
            analysed = session.store.analysed_until_s()
            self.waiting_for_analysis = session.running and (analysed is None or analysed < target)
            if self.waiting_for_analysis:
                target = max(self.position_s, analysed if analysed is not None else 0.0)
            self.position_s = target
        self._last_tick = now
        if self._want_frame:
            frame = playback.next_frame()
        else:
            frame = playback.take_due(self.position_s) if self.playing else None
        if frame is not None and frame.generation == playback.generation:
            if self._want_frame:
                self._want_frame = False
                self.position_s = frame.pts_s
            faces = session.store.faces_at(frame.pts_s)
            self._show(frame.image, frame.pts_s, faces or ())
            self.tick_ms.append((time.perf_counter() - started) * 1000.0)
        if self.playing and playback.ended:
            self.pause()
        message = "waiting for analysis…" if self.playing and self.waiting_for_analysis else ""
        if message != self.video.message:
            self.video.message = message
            self.video.update()

    def _show(self, image: np.ndarray, pts_s: float, faces: tuple[TrackedFace, ...]) -> None:
        self.shown_pts_s = pts_s
        self.shown_faces = faces
        self.video.set_frame(image, self._overlays())
        self.time_label.setText(format_time(pts_s))
        if not self.slider.isSliderDown():
            self.slider.setValue(round(pts_s * 1000))

    def _overlays(self) -> list[FaceOverlay]:
        """Boxes of the shown faces with their scores at the shown time; updates the face gauge."""
        session = self.session
        if session is None or self.shown_pts_s is None:
            return []
        threshold = session.threshold
        scored = []
        for face in self.shown_faces:
            verdict = session.store.verdict_at(face.track_id, self.shown_pts_s)
            scored.append((face, verdict.p_fake if verdict is not None else None))
        visible = {face.track_id for face, _ in scored}
        if self.selected_track in visible:
            selected = self.selected_track
        else:
            ranked = sorted(scored, key=lambda item: -1.0 if item[1] is None else item[1], reverse=True)
            selected = ranked[0][0].track_id if ranked else None
        overlays = [
            FaceOverlay(face.track_id, face.box, p_fake, score_color(p_fake, threshold), face.track_id == selected)
            for face, p_fake in scored
        ]
        chosen = next((o for o in overlays if o.selected), None)
        if chosen is None:
            self.face_gauge.set_value(None, "no face")
        else:
            how = "clicked" if chosen.track_id == self.selected_track else "most suspicious"
            self.face_gauge.set_value(chosen.p_fake, f"face #{chosen.track_id} ({how})")
        return overlays

    def select_face(self, track_id: int) -> None:
        self.selected_track = track_id
        self.video.set_overlays(self._overlays())

    # ---- playback controls --------------------------------------------------------------------

    def play(self) -> None:
        if self.session is None or self.session.playback is None:
            return
        if self.session.playback.ended:
            self.seek(0.0)
        self.playing = True
        self._last_tick = time.monotonic()
        self.play_button.setText("Pause")

    def pause(self) -> None:
        self.playing = False
        self.play_button.setText("Play")

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        if self.session is not None and self.session.playback is not None:
            self._frame_timer.setInterval(max(5, round(500 * self.session.playback.frame_period_s / speed)))

    def seek(self, pts_s: float) -> None:
        """Moves file playback to ``pts_s``; the frame there is shown as soon as it is decoded."""
        if self.session is None or self.session.playback is None:
            return
        playback = self.session.playback
        self.position_s = min(max(0.0, pts_s), max(0.0, playback.duration_s - playback.frame_period_s))
        playback.seek(self.position_s)
        self._want_frame = True
        self._last_tick = time.monotonic()
        self.timeline.set_playhead(self.position_s)

    def step(self) -> None:
        """Pauses and shows the next frame."""
        self.pause()
        self._want_frame = True

    def step_back(self) -> None:
        """Pauses and shows the previous frame."""
        self.pause()
        if self.session is not None and self.session.playback is not None and self.shown_pts_s is not None:
            self.seek(self.shown_pts_s - self.session.playback.frame_period_s)

    def next_segment(self) -> None:
        """Jumps to the start of the next suspicious segment after the playhead."""
        if self.session is None:
            return
        here = self.shown_pts_s if self.shown_pts_s is not None else self.position_s
        for start, _end in self.session.store.suspicious_segments(self.session.threshold):
            if start > here + 0.05:
                self.seek(start)
                return

    def previous_segment(self) -> None:
        """Jumps to the start of the suspicious segment before the playhead (or of the one it is in)."""
        if self.session is None:
            return
        here = self.shown_pts_s if self.shown_pts_s is not None else self.position_s
        starts = [start for start, _end in self.session.store.suspicious_segments(self.session.threshold)]
        earlier = [start for start in starts if start < here - 0.5]
        if earlier:
            self.seek(earlier[-1])

    # ---- verdicts, alerts, panels -------------------------------------------------------------

    def _on_verdict(self, verdict: Verdict) -> None:
        if self.session is None or self.monitor is None or self.sender() is not self.session.bridge:
            return  # a verdict of a source closed after it was queued
        alert = self.monitor.observe(verdict)
        if alert is None:
            return
        self.alerts.append(alert)
        self.alert_list.add_alert(alert, self.session.store.thumbnail(alert.track_id, alert.frame_index))
        self.banner.announce(
            f"ALERT: face #{alert.track_id} above threshold since {format_time(alert.since_pts_s)} "
            f"for {alert.at_pts_s - alert.since_pts_s:.1f} s (p_fake {alert.p_fake:.2f})"
        )
        if self.settings.alert_command:
            try:
                run_alert_command(self.settings.alert_command, alert)
            except OSError as exc:
                self.statusBar().showMessage(f"alert command failed: {exc}", 10000)

    def _set_hold(self, seconds: float) -> None:
        self.settings.alert_hold_s = seconds
        if self.monitor is not None:
            self.monitor.hold_s = seconds

    def _set_command(self) -> None:
        try:
            self.settings.alert_command = tuple(shlex.split(self.command_field.text()))
        except ValueError as exc:
            self.statusBar().showMessage(f"alert command not understood: {exc}", 10000)

    def _refresh_panels(self) -> None:
        """Timeline curves and segments (when new verdicts came), playhead, stream gauge; live scores on the boxes."""
        session = self.session
        if session is None:
            return
        store = session.store
        if store.version != self._series_version:
            self._series_version = store.version
            self.timeline.set_series(store.series())
            self.timeline.set_segments(store.suspicious_segments(session.threshold))
            stream_p = store.stream_p_fake()
            self.stream_gauge.set_value(stream_p, "video score so far" if stream_p is not None else "no face scored")
            if self.shown_pts_s is not None:
                self.video.set_overlays(self._overlays())
        if self.shown_pts_s is not None:
            self.timeline.set_playhead(self.shown_pts_s)
            if not session.is_file:
                self.timeline.set_time_range(max(0.0, self.shown_pts_s - LIVE_TIMELINE_S), self.shown_pts_s + 1.0)

    def _refresh_status(self) -> None:
        session = self.session
        if session is None:
            self.status_label.setText("no source")
            return
        stats = session.stats()
        rates = session.rates()
        source_fps = session.playback.fps if session.playback is not None else rates.source_fps
        latency = session.store.median_latency_ms()
        state = "analysing" if session.running else "analysis ended"
        if self.waiting_for_analysis:
            state = "playback waiting for analysis"
        error = session.error()
        if error:
            state = f"error: {error}"
        untrained = "" if self.loaded.spec.trained else "UNTRAINED MODEL: scores are not verdicts  |  "
        self.status_label.setText(
            f"{untrained}source {source_fps:.1f} fps  |  analysis {rates.analysis_fps:.1f} fps  |  "
            f"dropped {stats.frames_dropped}  |  latency {'—' if latency is None else f'{latency:.0f} ms'}  |  "
            f"device {session.device}  |  {state}"
        )

    def _on_finished(self) -> None:
        session = self.session
        if session is None or self.sender() is not session.bridge:
            return
        self.run_action.setText("Start analysis")
        self._refresh_status()
        error = session.error()
        if error and session.stats().frames_read == 0:
            self.source_failed.emit(error)
        elif error:
            self.banner.announce(error)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._panel_timer.stop()
        self._status_timer.stop()
        self.close_session()
        super().closeEvent(event)
