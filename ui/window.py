"""The main window: plays the source with face overlays and shows scores, timeline, alerts and engine status."""

from __future__ import annotations

import dataclasses
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
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from realtime.colors import score_color, verdict_color
from realtime.engine import Engine
from realtime.frames import TrackedFace, Verdict
from realtime.sources.base import SourceError
from realtime.verdicts import REAL, UNCERTAIN, Judgement
from services.alerts import Alert, AlertCommands, AlertPolicy, AlertRule, alert_record, alert_text
from ui.about import LikelyRealCaveat, ModelAbout
from ui.recent import RecentSources, default_settings
from ui.session import AnalysisSession
from ui.source_dialog import SourceDialog
from ui.transport import TransportBar
from ui.widgets import AlertBanner, AlertList, FaceOverlay, ScoreGauge, TimelinePlot, VideoView

LIVE_TIMELINE_S = 60.0  # a live source's timeline shows the last minute
PANEL_REFRESH_MS = 100  # timeline, playhead and stream gauge
STATUS_REFRESH_MS = 1000
MAX_ALERTS = 200  # alerts kept in the list; older ones scroll away
WINDOW_SIZE_PX = (1200, 760)  # initial width and height
SIDE_PANEL_PX = 420  # initial width of the verdict, gauges, alerts and model panel
ABOUT_PANEL_PX = 190  # height of the "About this model" panel (it scrolls when longer)


def verdict_style(verdict: str | None) -> str:
    """The verdict label's colours: the verdict's colour (green, amber, red; grey otherwise) behind white text
    (dark text on amber, where white would hardly show)."""
    red, green, blue = verdict_color(verdict or "")
    text = "#202020" if verdict == UNCERTAIN else "white"
    return f"background: rgb({red}, {green}, {blue}); color: {text}; font-weight: bold; padding: 6px;"


@dataclass
class WindowSettings:
    """What the window adds to the engine's settings."""

    alert_hold_s: float = 2.0  # a face must stay at or above the threshold this long (stream time) to alert
    alert_command: Sequence[str] = ()  # run on each alert, with DEEPFAKE_ALERT_* in its environment; empty: none


class MainWindow(QMainWindow):
    """Shows one source at a time; ``open_source`` replaces it. Closing joins every engine thread."""

    source_failed = pyqtSignal(str)  # a source that ended with an error before its first frame
    summary_ready = pyqtSignal(object)  # a source's analysis ended: its summary record, as a headless run prints it

    def __init__(self, engine: Engine, settings: WindowSettings | None = None) -> None:
        super().__init__()
        self.recent = RecentSources(default_settings())
        self.engine = engine
        self.settings = settings or WindowSettings()
        self.session: AnalysisSession | None = None
        self.monitor: AlertPolicy | None = None
        self.commands = AlertCommands()
        self.alerts: deque[Alert] = deque(maxlen=MAX_ALERTS)
        self.selected_track: int | None = None  # chosen by a click; None: the most suspicious face
        self.shown_pts_s: float | None = None
        self.shown_faces: tuple[TrackedFace, ...] = ()
        self.position_s = 0.0  # file playhead
        self.playing = False
        self.speed = 1.0
        self.waiting_for_analysis = False
        self.final_summary: dict | None = None  # the summary record of the source whose analysis ended last
        self._verdict_final = False  # the verdict shown is the final one of the current source
        self._summarized = True  # the current source's summary was emitted (True: there is none to emit)
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
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self._build_player())
        splitter.addWidget(self._build_side_panel())
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([WINDOW_SIZE_PX[0] - SIDE_PANEL_PX, SIDE_PANEL_PX])
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
        self.resize(*WINDOW_SIZE_PX)

    def _build_player(self) -> QWidget:
        """The alert banner, the video, the transport controls and, below them, the timeline."""
        self.banner = AlertBanner()
        self.video = VideoView()
        self.video.face_clicked.connect(self.select_face)
        self.timeline = TimelinePlot(self.engine.threshold)
        self.timeline.seek_requested.connect(self.seek)
        self.transport = TransportBar()
        self.transport.play_toggled.connect(self.toggle_play)
        self.transport.step_back_requested.connect(self.step_back)
        self.transport.step_requested.connect(self.step)
        self.transport.previous_segment_requested.connect(self.previous_segment)
        self.transport.next_segment_requested.connect(self.next_segment)
        self.transport.seek_requested.connect(self.seek)
        self.transport.speed_changed.connect(self.set_speed)

        player = QSplitter(Qt.Vertical)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.banner)
        top_layout.addWidget(self.video, 1)
        top_layout.addWidget(self.transport)
        player.addWidget(top)
        player.addWidget(self.timeline)
        player.setStretchFactor(0, 3)
        player.setStretchFactor(1, 1)
        return player

    def _build_side_panel(self) -> QWidget:
        """The verdict, the face and stream gauges, the alert settings and list, and what the model is."""
        threshold = self.engine.threshold
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
        self.verdict_label = QLabel()
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setAlignment(Qt.AlignCenter)
        spec = self.engine.spec
        self.verdict_caveat = LikelyRealCaveat(spec.metrics)
        self._show_verdict(None)
        self.model_box = ModelAbout(spec.metrics, spec.trained, threshold, ABOUT_PANEL_PX)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.verdict_label)
        side_layout.addWidget(self.verdict_caveat)
        gauges = QHBoxLayout()  # side by side: the height below goes to the alerts and the model's table
        gauges.addWidget(self.face_gauge)
        gauges.addWidget(self.stream_gauge)
        side_layout.addLayout(gauges)
        side_layout.addLayout(alert_form)
        alerts = QWidget()
        alerts_layout = QVBoxLayout(alerts)
        alerts_layout.setContentsMargins(0, 0, 0, 0)
        alerts_layout.addWidget(QLabel("Alerts"))
        alerts_layout.addWidget(self.alert_list, 1)
        lower = QSplitter(Qt.Vertical)  # the person chooses how much of the height the model's table gets
        lower.setChildrenCollapsible(False)
        lower.addWidget(alerts)
        lower.addWidget(self.model_box)
        side_layout.addWidget(lower, 1)
        return side

    # ---- sources ------------------------------------------------------------------------------

    def open_source(self, source_spec: str | None) -> None:
        """Starts analysing ``source_spec`` (None: the demo clip), replacing the current source.

        Raises SourceError when it cannot be opened; the current source then keeps running.
        """
        session = AnalysisSession(source_spec, self.engine)
        self.close_session()
        self.session = session
        self.monitor = AlertPolicy(self._alert_rule(session.threshold))
        session.bridge.frame_ready.connect(self._show_live_frame, Qt.QueuedConnection)
        session.bridge.verdict_ready.connect(self._on_verdict, Qt.QueuedConnection)
        session.bridge.finished.connect(self._on_finished, Qt.QueuedConnection)
        self._summarized = False
        self._verdict_final = False
        self._show_verdict(None)
        self.alerts.clear()
        self.alert_list.clear()
        self.timeline.clear_series()
        self._series_version = -1
        self.selected_track = None
        self.shown_pts_s = None
        self.shown_faces = ()
        self.position_s = 0.0
        self.transport.setVisible(session.is_file)
        self.setWindowTitle(f"Deepfake analyzer — {session.name}")
        self.run_action.setText("Stop analysis")
        if session.playback is not None:
            self.transport.set_duration(session.playback.duration_s)
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
        was_running = session.running
        joined = session.close()
        if not self._summarized:  # closed before its end was handled: its summary says it was cut short
            self._emit_summary(session, interrupted=was_running)
        return joined

    def _emit_summary(self, session: AnalysisSession, interrupted: bool) -> None:
        """The headless summary record of ``session`` (none for a source that failed before its first frame)."""
        self._summarized = True
        if session.error() and session.stats().frames_read == 0:
            return
        self.final_summary = session.summary_record(interrupted)
        self.summary_ready.emit(self.final_summary)

    def _show_verdict(self, judgement: Judgement | None, final: bool = False) -> None:
        """The verdict label: the source's verdict so far while it is analysed, the final one (kept) after;
        under a ``Likely real`` one, the kinds of fakes the model is known to miss."""
        self.verdict_caveat.setVisible(judgement is not None and judgement.verdict == REAL)
        if judgement is None:
            self.verdict_label.setText("Verdict: waiting for a scored face…")
            self.verdict_label.setStyleSheet(verdict_style(None))
            return
        self.verdict_label.setText(judgement.headline if final else f"So far: {judgement.headline}")
        self.verdict_label.setToolTip(
            "final verdict of the analysed source" if final else "verdict of what was analysed so far"
        )
        self.verdict_label.setStyleSheet(verdict_style(judgement.verdict))

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
        self.transport.show_position(pts_s)

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
        self.transport.set_playing(True)

    def pause(self) -> None:
        self.playing = False
        self.transport.set_playing(False)

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
        judgement = self.session.judgement()
        self.banner.announce(f"ALERT: {alert_text(alert)} — so far: {judgement.headline}")
        if self.settings.alert_command:
            self.commands.submit(self.settings.alert_command, alert, alert_record(alert, judgement))

    def _alert_rule(self, threshold: float) -> AlertRule:
        """The window's use of the shared alert rule: once per episode, after the hold time."""
        return AlertRule(threshold, hold_s=self.settings.alert_hold_s)

    def _set_hold(self, seconds: float) -> None:
        self.settings.alert_hold_s = seconds
        if self.monitor is not None:
            self.monitor.rule = dataclasses.replace(self.monitor.rule, hold_s=seconds)

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
            caption = "final video score" if self._verdict_final else "video score so far"
            self.stream_gauge.set_value(stream_p, caption if stream_p is not None else "no face scored")
            if not self._verdict_final and stream_p is not None:
                self._show_verdict(session.judgement())
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
        untrained = "" if self.engine.spec.trained else "UNTRAINED MODEL: scores are not verdicts  |  "
        self.status_label.setText(
            f"{untrained}source {source_fps:.1f} fps  |  analysis {rates.analysis_fps:.1f} fps  |  "
            f"dropped {stats.frames_dropped}  |  latency {'—' if latency is None else f'{latency:.0f} ms'}  |  "
            f"{session.device} · {self.engine.runtime}  |  {state}"
        )

    def _on_finished(self) -> None:
        session = self.session
        if session is None or self.sender() is not session.bridge:
            return
        self.run_action.setText("Start analysis")
        self._refresh_status()
        self._verdict_final = True
        self._show_verdict(session.judgement(), final=True)
        stream_p = session.store.stream_p_fake()
        self.stream_gauge.set_value(stream_p, "final video score" if stream_p is not None else "no face scored")
        self._emit_summary(session, interrupted=session.pipeline.stop_event.is_set())
        error = session.error()
        if error and session.stats().frames_read == 0:
            self.source_failed.emit(error)
        elif error:
            self.banner.announce(error)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._panel_timer.stop()
        self._status_timer.stop()
        self.close_session()
        self.commands.close()
        super().closeEvent(event)
