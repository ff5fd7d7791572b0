"""The transport controls of file playback: play/pause, frame steps, suspicious-segment jumps, position, time, speed."""

from __future__ import annotations

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from ui.widgets import format_time

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)


class TransportBar(QWidget):
    """One row of playback controls. It says what was asked (its signals) and shows what it is told: the
    window that owns the playback decides what a request does."""

    play_toggled = pyqtSignal()
    step_back_requested = pyqtSignal()
    step_requested = pyqtSignal()
    previous_segment_requested = pyqtSignal()
    next_segment_requested = pyqtSignal()
    seek_requested = pyqtSignal(float)  # seconds from the start of the file
    speed_changed = pyqtSignal(float)  # playback speed, 1.0 = real time

    def __init__(self) -> None:
        super().__init__()
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.play_toggled)
        self.step_back_button = QPushButton("◀|")
        self.step_back_button.setToolTip("previous frame")
        self.step_back_button.clicked.connect(self.step_back_requested)
        self.step_button = QPushButton("|▶")
        self.step_button.setToolTip("next frame")
        self.step_button.clicked.connect(self.step_requested)
        self.previous_segment_button = QPushButton("« suspicious")
        self.previous_segment_button.setToolTip("jump to the previous suspicious segment")
        self.previous_segment_button.clicked.connect(self.previous_segment_requested)
        self.next_segment_button = QPushButton("suspicious »")
        self.next_segment_button.setToolTip("jump to the next suspicious segment")
        self.next_segment_button.clicked.connect(self.next_segment_requested)
        self.slider = QSlider(Qt.Horizontal)  # milliseconds
        self.slider.setRange(0, 0)
        self.slider.sliderMoved.connect(lambda value: self.seek_requested.emit(value / 1000.0))
        self.time_label = QLabel(format_time(0.0))
        self.speed_box = QComboBox()
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}×", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(lambda index: self.speed_changed.emit(SPEEDS[index]))
        layout = QHBoxLayout(self)
        for widget in (self.play_button, self.step_back_button, self.step_button, self.previous_segment_button):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        for widget in (self.time_label, self.next_segment_button, self.speed_box):
            layout.addWidget(widget)

    def set_playing(self, playing: bool) -> None:
        """The play button offers what a click would do."""
        self.play_button.setText("Pause" if playing else "Play")

    def set_duration(self, duration_s: float) -> None:
        """The length of the file the slider spans."""
        self.slider.setRange(0, round(duration_s * 1000))

    def show_position(self, pts_s: float) -> None:
        """The time of the frame shown, on the label and on the slider (unless the user is dragging it)."""
        self.time_label.setText(format_time(pts_s))
        if not self.slider.isSliderDown():
            self.slider.setValue(round(pts_s * 1000))
