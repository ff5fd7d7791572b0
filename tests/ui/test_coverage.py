"""What the model can see in the window and the stream grid: the "About this model" table, and the kinds of fakes
the model is known to miss right under a "Likely real" verdict, in the words of realtime.verdicts."""

from __future__ import annotations

import io

import numpy as np
from PyQt5.QtWidgets import QApplication

from realtime.config import EngineConfig
from realtime.verdicts import COVERAGE_CAPTION, MISSED, NO_EVALUATION, coverage_table, likely_real_caveat
from services.multistream.config import StreamSettings
from tests.support.checkpoints import HAND_MADE_EVALUATION
from ui.about import STATUS_COLORS, ModelAbout
from ui.grid_session import GridSession
from ui.grid_window import GridWindow
from ui.window import MainWindow

WAIT_MS = 60_000
METRICS = {"evaluation": HAND_MADE_EVALUATION}
CAVEAT = (
    "Known to miss: talking head (video AUC < 0.7 on held-out clips), so a fake of this kind can be rated Likely real."
)
ROWS = [
    ("Fakes from the data set",),
    ("face swap", "13", "0.91 (0.80–0.98)", "detected"),
    ("talking head", "21", "0.35 (0.20–0.50)", "missed (AUC < 0.7)"),
]
NO_THRESHOLD_REACHED = 0.999  # the test model scores about 0.5: no window reaches it, the verdict is real


def rgb_pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(4)  # QImage.Format_RGB32: B, G, R, 255 per pixel
    data = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), dtype=np.uint8)
    return data.reshape(image.height(), image.bytesPerLine() // 4, 4)[: image.height(), : image.width(), 2::-1]


def test_the_about_panel_shows_the_coverage_table_rendered_offscreen(qtbot, tmp_path):
    about = ModelAbout(METRICS, trained=True, threshold=0.8, min_height_px=190)
    qtbot.addWidget(about)
    about.resize(420, 600)
    about.show()
    QApplication.processEvents()
    table = about.table
    assert likely_real_caveat(METRICS) == CAVEAT
    assert table.rows_text() == ROWS
    assert [tuple(row.cells()) for row in coverage_table(METRICS)] == ROWS[1:]
    missed = table.item(2, 3)  # at 420 px the result breaks before its parenthesis
    assert missed.text() == "missed\n(AUC < 0.7)" and missed.foreground().color() == STATUS_COLORS[MISSED]
    # Every row on screen, none cut: the table is as tall as its rows and no wider than the panel.
    rows_px = sum(table.rowHeight(row) for row in range(table.rowCount()))
    assert table.height() >= rows_px + table.horizontalHeader().height()
    assert sum(table.columnWidth(column) for column in range(4)) <= table.viewport().width()
    assert about.caption.text() == COVERAGE_CAPTION and about.notes.text().startswith(CAVEAT)
    assert "not calibrated" in about.notes.text() and "reaches 80%" in about.notes.text()
    red = missed.foreground().color()
    shot = rgb_pixels(table).reshape(-1, 3).astype(int)
    assert (np.abs(shot - (red.red(), red.green(), red.blue())).max(axis=1) < 40).sum() > 30  # painted in red
    about.grab().save(str(tmp_path / "about.png"))
    # Wide enough, no cell wraps: an AUC and its CI on one line.
    about.resize(900, 600)
    QApplication.processEvents()
    assert table.item(2, 2).text() == "0.35 (0.20–0.50)" and table.rows_text() == ROWS


def test_a_model_without_evaluation_says_so_and_shows_no_table(qtbot):
    about = ModelAbout({}, trained=True, threshold=0.8, min_height_px=190)
    qtbot.addWidget(about)
    about.show()
    assert about.table.isHidden() and about.caption.text() == NO_EVALUATION
    assert about.notes.text().startswith("Calibration not measured")
    untrained = ModelAbout(METRICS, trained=False, threshold=0.8, min_height_px=190)
    qtbot.addWidget(untrained)
    assert untrained.table.isHidden() and untrained.notes.text() == "Untrained model: its scores are not verdicts."


def test_the_window_shows_the_known_misses_right_under_likely_real(qtbot, one_face_clip, trained_small_checkpoint):
    from realtime.engine import build_engine

    engine = build_engine(
        EngineConfig(device="cpu", torch_threads=1, threshold=NO_THRESHOLD_REACHED), trained_small_checkpoint
    )
    window = MainWindow(engine)
    qtbot.addWidget(window)
    window.open_source(str(one_face_clip))
    window.show()
    try:
        assert window.verdict_caveat.isHidden()  # no verdict yet
        qtbot.waitUntil(lambda: window.final_summary is not None, timeout=WAIT_MS)
        assert window.final_summary["verdict"] == "real" and window.verdict_label.text() == "Likely real"
        assert window.final_summary["model"]["likely_real_caveat"] == CAVEAT
        caveat = window.verdict_caveat
        assert caveat.isVisible() and caveat.text() == CAVEAT
        layout = window.verdict_label.parentWidget().layout()
        assert layout.indexOf(caveat) == layout.indexOf(window.verdict_label) + 1  # right under the verdict
        assert 0 <= caveat.geometry().top() - window.verdict_label.geometry().bottom() <= 12
        assert caveat.height() >= caveat.heightForWidth(caveat.width())  # the whole sentence, not cut
        assert window.model_box.table.rows_text() == ROWS
    finally:
        window.close()


def test_a_stream_that_ended_likely_real_shows_the_known_misses_in_its_tile(qtbot, tmp_path, trained_small_checkpoint):
    from realtime.engine import build_engine
    from realtime.sources.demo import render_face_frames, write_video

    clip = write_video(tmp_path / "short.mp4", render_face_frames(25))
    engine = build_engine(
        EngineConfig(device="cpu", torch_threads=1, realtime=True, threshold=NO_THRESHOLD_REACHED),
        trained_small_checkpoint,
    )
    session = GridSession([StreamSettings("short", str(clip))], engine, io.StringIO())
    window = GridWindow(session)
    qtbot.addWidget(window)
    tile = window.tiles["short"]
    assert tile.caveat.text() == CAVEAT and tile.caveat.isHidden()
    session.start()
    window.show()
    try:
        qtbot.waitUntil(lambda: tile.ended and (tile.bar.text or "").startswith("Likely real"), timeout=WAIT_MS)
        window.refresh()
        assert tile.caveat.isVisible()
        layout = tile.layout()
        assert layout.indexOf(tile.caveat) == layout.indexOf(tile.bar) + 1  # right under the verdict's bar
    finally:
        window.close()
    session.finish(interrupted=window.closed_while_running)
