"""The grid window: one tile per stream of streams.yaml, an alert list, a status bar.

Nothing here decodes video or calls the model: the engine runs on its own threads and reaches
the GUI thread only through :class:`ui.grid_feed.GridSignals`' queued signals. Per GUI pass each
tile takes only its stream's newest frame; older ones were already dropped by the feed.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QCloseEvent, QColor, QPalette
from PyQt5.QtWidgets import (
    QGridLayout,
    QLabel,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from realtime.verdicts import likely_real_caveat
from ui.grid import StreamTile
from ui.grid_session import GridSession
from ui.widgets import ThumbnailList

FIGURES_REFRESH_MS = 500  # tiles' fps / latency / faces / max p_fake and the status bar
MAX_ALERTS = 200  # entries kept in the alert list; older ones scroll away
ALERT_PANEL_PX = 300  # initial width of the alert list beside the grid


class GridWindow(QMainWindow):
    """Shows every stream of a :class:`GridSession`; closing the window stops and joins the engine."""

    def __init__(self, session: GridSession) -> None:
        super().__init__()
        self.session = session
        self.feed = session.feed
        self.focused: str | None = None  # the one stream shown alone after a double-click; None: all
        self.closed_while_running = False
        self._ended: set[str] = set()
        self.tiles: dict[str, StreamTile] = {}
        self._build()
        self.feed.signals.frames_ready.connect(self._show_frames, Qt.QueuedConnection)
        self.feed.signals.alert_raised.connect(self._on_alert, Qt.QueuedConnection)
        self.feed.signals.finished.connect(self.refresh, Qt.QueuedConnection)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(FIGURES_REFRESH_MS)

    def _build(self) -> None:
        names = [stream.name for stream in self.session.streams]
        columns = math.ceil(math.sqrt(len(names)))
        grid_widget = QWidget()
        grid_widget.setAutoFillBackground(True)
        palette = grid_widget.palette()
        palette.setColor(QPalette.Window, QColor(12, 12, 12))
        grid_widget.setPalette(palette)
        self.grid = QGridLayout(grid_widget)
        self.grid.setContentsMargins(4, 4, 4, 4)
        self.grid.setSpacing(4)
        caveat = likely_real_caveat(self.session.engine.spec.metrics)
        for position, name in enumerate(names):
            tile = StreamTile(name, self.session.masked_source(name), self.session.threshold(name), caveat)
            tile.double_clicked.connect(self.toggle_focus)
            self.tiles[name] = tile
            self.grid.addWidget(tile, position // columns, position % columns)
        self.alert_list = ThumbnailList(MAX_ALERTS)
        self.alert_list.itemActivated.connect(self._focus_alert)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(QLabel("Alerts"))
        side_layout.addWidget(self.alert_list, 1)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(grid_widget)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([ALERT_PANEL_PX * 4, ALERT_PANEL_PX])
        self.setCentralWidget(splitter)
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label, 1)
        self.setWindowTitle(f"Deepfake analyzer — {len(names)} streams")
        self.resize(1280, 800)

    # ---- engine events ------------------------------------------------------------------------

    def _show_frames(self) -> None:
        for name, analyzed in self.feed.take_frames().items():
            self.tiles[name].show_frame(analyzed, self.feed.track_scores(name))

    def _on_alert(self, record: dict[str, Any]) -> None:
        tile = self.tiles.get(record["stream"])
        if tile is None:
            return
        tile.raise_alert()
        self.refresh(measure_fps=False)  # its count shows with its red border, not up to a refresh later
        wall = time.strftime("%H:%M:%S")
        text = (
            f"{wall}  {tile.name}\nface #{record['track_id']}  p_fake {record['p_fake']:.2f}  "
            f"({record['windows_above']} window{'' if record['windows_above'] == 1 else 's'} ≥ "
            f"{record['threshold']:.2f})\nso far: {record['headline']}"
        )
        self.alert_list.add_entry(text, tile.name, tile.face_thumbnail(record["track_id"]))

    def refresh(self, measure_fps: bool = True) -> None:
        """Figures of every tile, streams that ended, the status bar (``measure_fps``: see StatusBoard.snapshot)."""
        for name, error in self.session.ended_streams().items():
            if name not in self._ended:
                self._ended.add(name)
                self.feed.state(name, "failed" if error else "ended")
                self.tiles[name].set_ended(error)
        figures = self.feed.snapshot(measure_fps)
        for name, tile in self.tiles.items():
            tile.set_figures(figures[name])
            if tile.ended:  # verdicts of its last windows may come after its last frame was shown
                tile.rescore(self.feed.track_scores(name))
        running = len(self.tiles) - len(self._ended)
        alerts = sum(f.alerts for f in figures.values())
        untrained = "" if self.session.engine.spec.trained else "UNTRAINED MODEL: scores are not verdicts  |  "
        self.status_label.setText(
            f"{untrained}{len(self.tiles)} streams, {running} running  |  alerts {alerts}  |  "
            f"device {self.session.runner.device} ({self.session.runner.runtime})  |  "
            "double-click a stream to focus it, click to acknowledge its alert"
        )

    # ---- focus --------------------------------------------------------------------------------

    def set_focus(self, name: str | None) -> None:
        """Shows only stream ``name`` (enlarged to the whole grid), or every stream with None."""
        self.focused = name if name in self.tiles else None
        for tile_name, tile in self.tiles.items():
            tile.setVisible(self.focused is None or tile_name == self.focused)

    def _focus_alert(self, item: QListWidgetItem) -> None:
        self.set_focus(item.data(Qt.UserRole))

    def toggle_focus(self, name: str) -> None:
        self.set_focus(None if self.focused == name else name)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        self.closed_while_running = self.closed_while_running or self.session.running
        self.session.close()
        super().closeEvent(event)
