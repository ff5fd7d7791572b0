"""The transport bar on its own: each control asks for what it names, and the bar shows what it is told."""

from __future__ import annotations

from PyQt5.QtCore import Qt

from ui.transport import TransportBar


def test_each_control_emits_its_request(qtbot):
    bar = TransportBar()
    qtbot.addWidget(bar)
    asked = []
    bar.play_toggled.connect(lambda: asked.append("play"))
    bar.step_back_requested.connect(lambda: asked.append("step back"))
    bar.step_requested.connect(lambda: asked.append("step"))
    bar.previous_segment_requested.connect(lambda: asked.append("previous segment"))
    bar.next_segment_requested.connect(lambda: asked.append("next segment"))
    bar.seek_requested.connect(lambda seconds: asked.append(("seek", seconds)))
    bar.speed_changed.connect(lambda speed: asked.append(("speed", speed)))
    for button in (
        bar.play_button,
        bar.step_back_button,
        bar.step_button,
        bar.previous_segment_button,
        bar.next_segment_button,
    ):
        qtbot.mouseClick(button, Qt.LeftButton)
    bar.set_duration(3.0)
    bar.slider.sliderMoved.emit(1250)  # what a drag to 1.25 s sends
    bar.speed_box.setCurrentIndex(bar.speed_box.findData(2.0))
    assert asked == ["play", "step back", "step", "previous segment", "next segment", ("seek", 1.25), ("speed", 2.0)]


def test_the_bar_shows_the_position_play_state_and_duration(qtbot):
    bar = TransportBar()
    qtbot.addWidget(bar)
    assert bar.speed_box.currentData() == 1.0 and bar.play_button.text() == "Play"
    bar.set_duration(75.5)
    assert bar.slider.maximum() == 75_500
    bar.show_position(62.25)
    assert bar.time_label.text() == "01:02.2" and bar.slider.value() == 62_250
    bar.slider.setSliderDown(True)  # the user holds the handle: the label follows the video, the handle does not
    bar.show_position(10.0)
    assert bar.time_label.text() == "00:10.0" and bar.slider.value() == 62_250
    bar.set_playing(True)
    assert bar.play_button.text() == "Pause"
    bar.set_playing(False)
    assert bar.play_button.text() == "Play"
