"""The window's parts: the video with face boxes, the score gauges, the timeline, the alert banner and list."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QPointF, QRectF, QSize, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QColor, QFont, QIcon, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PyQt5.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QSizePolicy, QWidget

from faces.geometry import Box
from realtime.colors import score_color, track_color
from services.alerts import Alert
from ui.results import TrackSeries
from ui.thumbnail import THUMBNAIL_PX

BOX_PEN_PX = 3
LEGEND_MARGIN_PX = 84  # right of the timeline's plot area: room for "face #N" entries beside the curves


def qcolor(rgb: tuple[int, int, int]) -> QColor:
    return QColor(*rgb)


def qimage_from_rgb(image: np.ndarray) -> QImage:
    """Wraps a contiguous H x W x 3 uint8 array without copying; keep the array alive while the image is used."""
    height, width = image.shape[:2]
    return QImage(image.data, width, height, image.strides[0], QImage.Format_RGB888)


def format_time(seconds: float) -> str:
    """``mm:ss.s``."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes):02d}:{rest:04.1f}"


@dataclass(frozen=True)
class FaceOverlay:
    """What is drawn for one face: its box, label and colour."""

    track_id: int
    box: Box
    p_fake: float | None
    color: tuple[int, int, int]
    selected: bool


class VideoView(QWidget):
    """Paints the current frame scaled to fit, with a labelled box per face; a click on a box selects that face."""

    face_clicked = pyqtSignal(int)

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self._array: np.ndarray | None = None  # the frame, RGB
        self._image: QImage | None = None  # wraps _array
        # The frame resized to the widget once per frame and size: repaints for new scores reuse it.
        self._scaled: tuple[tuple[int, int], np.ndarray, QImage] | None = None
        self.overlays: list[FaceOverlay] = []
        self.message = ""  # shown over the video, e.g. while waiting for analysis
        self.paint_ms: deque[float] = deque(maxlen=2000)  # GUI-thread cost of each paint, for the benchmark
        self._label_font = QFont()
        self._label_font.setBold(True)
        self._label_font.setPixelSize(14)

    def sizeHint(self) -> QSize:
        return QSize(800, 450)

    def set_frame(self, image: np.ndarray, overlays: list[FaceOverlay]) -> None:
        """Shows ``image`` (RGB uint8) with ``overlays``; repaints on the next event loop pass."""
        self._array = np.ascontiguousarray(image)
        self._image = qimage_from_rgb(self._array)
        self._scaled = None
        self.overlays = overlays
        self.update()

    def set_overlays(self, overlays: list[FaceOverlay]) -> None:
        self.overlays = overlays
        self.update()

    def image_rect(self) -> QRectF:
        """Where the frame lands in the widget (aspect kept, centred)."""
        if self._image is None:
            return QRectF()
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        width, height = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def to_widget(self, box: Box) -> QRectF:
        """A box in frame pixels -> widget coordinates."""
        target = self.image_rect()
        scale = target.width() / self._image.width() if self._image is not None else 1.0
        return QRectF(
            target.left() + box.left * scale, target.top() + box.top * scale, box.width * scale, box.height * scale
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        started = time.perf_counter()
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.black)
        if self._image is not None:
            target = self.image_rect()
            painter.drawImage(target.topLeft(), self._scaled_image(round(target.width()), round(target.height())))
            painter.setFont(self._label_font)
            for overlay in self.overlays:
                self._paint_face(painter, overlay)
        if self.message:
            painter.setPen(Qt.white)
            painter.drawText(self.rect().adjusted(8, 8, -8, -8), Qt.AlignLeft | Qt.AlignBottom, self.message)
        painter.end()
        self.paint_ms.append((time.perf_counter() - started) * 1000.0)

    def _scaled_image(self, width: int, height: int) -> QImage:
        """The frame at ``width`` x ``height``; OpenCV resizes several times faster than QPainter's smooth scaling."""
        if self._scaled is None or self._scaled[0] != (width, height):
            if (width, height) == (self._image.width(), self._image.height()) or min(width, height) < 1:
                self._scaled = ((width, height), self._array, self._image)
            else:
                resized = cv2.resize(self._array, (width, height), interpolation=cv2.INTER_LINEAR)
                self._scaled = ((width, height), resized, qimage_from_rgb(resized))
        return self._scaled[2]

    def _paint_face(self, painter: QPainter, overlay: FaceOverlay) -> None:
        rect = self.to_widget(overlay.box)
        color = qcolor(overlay.color)
        pen = QPen(color, BOX_PEN_PX + (2 if overlay.selected else 0))
        pen.setJoinStyle(Qt.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.NoBrush)
        painter.drawRect(rect)
        score = "…" if overlay.p_fake is None else f"{overlay.p_fake:.2f}"
        text = f"#{overlay.track_id}  {score}"
        metrics = painter.fontMetrics()
        label = QRectF(
            rect.left(), rect.top() - metrics.height() - 4, metrics.horizontalAdvance(text) + 10, metrics.height() + 4
        )
        if label.top() < 0:
            label.moveTop(rect.bottom())
        painter.fillRect(label, color)
        painter.setPen(Qt.black if sum(overlay.color) > 380 else Qt.white)
        painter.drawText(label, Qt.AlignCenter, text)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = QPointF(event.pos())
        hits = [o for o in self.overlays if self.to_widget(o.box).contains(point)]
        if hits:
            self.face_clicked.emit(min(hits, key=lambda o: o.box.area).track_id)
        super().mousePressEvent(event)


class ScoreGauge(QWidget):
    """A half-dial showing one p_fake against the threshold, coloured like the face boxes."""

    def __init__(self, title: str, threshold: float) -> None:
        super().__init__()
        self.title = title
        self.threshold = threshold
        self.value: float | None = None
        self.caption = ""
        self.setMinimumSize(150, 130)

    def sizeHint(self) -> QSize:
        return QSize(170, 160)

    def set_value(self, value: float | None, caption: str = "") -> None:
        if value != self.value or caption != self.caption:
            self.value, self.caption = value, caption
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        width, height = self.width(), self.height()
        side = min(width - 20, (height - 50) * 2)
        dial = QRectF((width - side) / 2, 22, side, side)
        thickness = max(8.0, side / 10)
        painter.setPen(QPen(QColor(70, 70, 70), thickness, Qt.SolidLine, Qt.FlatCap))
        painter.drawArc(dial, 0, 180 * 16)
        if self.value is not None:
            painter.setPen(QPen(qcolor(score_color(self.value, self.threshold)), thickness, Qt.SolidLine, Qt.FlatCap))
            painter.drawArc(dial, 180 * 16, -round(180 * 16 * min(max(self.value, 0.0), 1.0)))
        # The threshold as a tick across the dial.
        center = dial.center()
        angle = np.pi * (1.0 - self.threshold)
        radius = side / 2
        outer = QPointF(
            center.x() + np.cos(angle) * (radius + thickness), center.y() - np.sin(angle) * (radius + thickness)
        )
        inner = QPointF(
            center.x() + np.cos(angle) * (radius - thickness), center.y() - np.sin(angle) * (radius - thickness)
        )
        painter.setPen(QPen(Qt.white, 2))
        painter.drawLine(inner, outer)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(QRectF(0, 0, width, 20), Qt.AlignCenter, self.title)
        big = QFont(self.font())
        big.setPixelSize(max(12, int(side / 7)))
        big.setBold(True)
        painter.setFont(big)
        value_text = "—" if self.value is None else f"{self.value:.2f}"
        painter.drawText(
            QRectF(0, center.y() - side / 5, width, side / 5), Qt.AlignHCenter | Qt.AlignBottom, value_text
        )
        painter.setFont(self.font())
        painter.drawText(
            QRectF(0, center.y() + 2, width, height - center.y() - 2), Qt.AlignHCenter | Qt.AlignTop, self.caption
        )
        painter.end()


class TimelinePlot(pg.PlotWidget):
    """p_fake per face over stream time, the threshold line, suspicious segments and a draggable playhead."""

    seek_requested = pyqtSignal(float)

    def __init__(self, threshold: float) -> None:
        super().__init__()
        self.setBackground("w")
        self.setMinimumHeight(150)
        plot = self.getPlotItem()
        plot.setLabel("bottom", "time", units="s")
        plot.setLabel("left", "p_fake")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setYRange(0.0, 1.0, padding=0.02)
        # The legend sits in a margin right of the plot area, so it never covers a curve.
        left, top, _, bottom = plot.layout.getContentsMargins()
        plot.layout.setContentsMargins(left, top, LEGEND_MARGIN_PX, bottom)
        self._legend = pg.LegendItem()
        self._legend.setParentItem(plot)
        self._legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-2, 4))
        plot.legend = self._legend  # curves plotted with a name get an entry
        self.threshold_line = pg.InfiniteLine(
            threshold,
            angle=0,
            pen=pg.mkPen(qcolor(score_color(1.0, 1.0)), width=2, style=Qt.DashLine),
            label="threshold",
            labelOpts={"position": 0.97, "color": score_color(1.0, 1.0), "anchors": [(1, 0), (1, 0)]},
        )
        plot.addItem(self.threshold_line)
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=True, pen=pg.mkPen("k", width=2))
        self.playhead.sigPositionChangeFinished.connect(lambda line: self.seek_requested.emit(float(line.value())))
        plot.addItem(self.playhead)
        self._curves: dict[int, pg.PlotDataItem] = {}
        self._segments: list[pg.LinearRegionItem] = []
        self._segment_spans: list[list[float]] = []
        self.paint_ms: deque[float] = deque(maxlen=2000)  # GUI-thread cost of each redraw, for the benchmark

    def paintEvent(self, event: QPaintEvent) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        self.paint_ms.append((time.perf_counter() - started) * 1000.0)

    def set_series(self, series: list[TrackSeries]) -> None:
        added = False
        for track in series:
            curve = self._curves.get(track.track_id)
            if curve is None:
                pen = pg.mkPen(qcolor(track_color(track.track_id)), width=2)
                curve = self._curves[track.track_id] = self.plot(name=f"face #{track.track_id}", pen=pen)
                added = True
            curve.setData(track.end_pts_s, track.p_fake)
        if added:
            self._fit_legend()

    def _fit_legend(self) -> None:
        """Widens the margin right of the plot area to the legend, which lives there."""
        layout = self.getPlotItem().layout
        left, top, _, bottom = layout.getContentsMargins()
        width = max(LEGEND_MARGIN_PX, self._legend.boundingRect().width() + 6)
        layout.setContentsMargins(left, top, width, bottom)

    def clear_series(self) -> None:
        """Forgets every face's curve and the segments (a new source)."""
        for curve in self._curves.values():
            self.removeItem(curve)
        self._curves.clear()
        self._legend.clear()
        self._fit_legend()
        self.set_segments([])

    def curve_points(self, track_id: int) -> int:
        """How many scores the timeline shows for a face."""
        curve = self._curves.get(track_id)
        return 0 if curve is None or curve.xData is None else len(curve.xData)

    def set_segments(self, spans: list[list[float]]) -> None:
        """Shades the suspicious segments."""
        if spans == self._segment_spans:
            return
        for region in self._segments:
            self.removeItem(region)
        self._segments = []
        for start, end in spans:
            region = pg.LinearRegionItem(
                (start, end), movable=False, brush=pg.mkBrush(230, 30, 30, 40), pen=pg.mkPen(None)
            )
            region.setZValue(-10)
            self.addItem(region)
            self._segments.append(region)
        self._segment_spans = [list(span) for span in spans]

    def set_time_range(self, start_s: float, end_s: float) -> None:
        self.getPlotItem().setXRange(start_s, max(end_s, start_s + 1.0), padding=0.0)

    def set_playhead(self, pts_s: float) -> None:
        if not self.playhead.moving:
            self.playhead.setValue(pts_s)


class AlertBanner(QLabel):
    """A red strip over the video that announces an alert and hides itself after a while or on a click."""

    def __init__(self, visible_ms: int = 8000) -> None:
        super().__init__()
        self.setStyleSheet("background: rgb(200, 20, 20); color: white; font-weight: bold; padding: 6px;")
        self.setWordWrap(True)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(visible_ms)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def announce(self, text: str) -> None:
        self.setText(text)
        self.show()
        self._timer.start()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.hide()


class ThumbnailList(QListWidget):
    """Newest-first entries of text with a face thumbnail; the oldest scroll away past ``max_entries``."""

    def __init__(self, max_entries: int = 200, icon_px: int = THUMBNAIL_PX) -> None:
        super().__init__()
        self.max_entries = max_entries
        self.setIconSize(QSize(icon_px, icon_px))
        # Long entries wrap onto more lines instead of being cut at the panel's edge (the tooltip repeats them).
        self.setWordWrap(True)
        self.setTextElideMode(Qt.ElideNone)
        self.setResizeMode(QListView.Adjust)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

    def add_entry(self, text: str, data: object, thumbnail: np.ndarray | None) -> QListWidgetItem:
        """Puts an entry on top; ``data`` is kept as the item's Qt.UserRole data."""
        item = QListWidgetItem(text)
        item.setToolTip(text)
        item.setData(Qt.UserRole, data)
        if thumbnail is not None:
            item.setIcon(QIcon(QPixmap.fromImage(qimage_from_rgb(np.ascontiguousarray(thumbnail)).copy())))
        self.insertItem(0, item)
        while self.count() > self.max_entries:
            self.takeItem(self.count() - 1)
        return item


class AlertList(ThumbnailList):
    """One entry per alert with the face's thumbnail; activating an entry asks to seek to it."""

    seek_requested = pyqtSignal(float)

    def __init__(self, max_entries: int = 200) -> None:
        super().__init__(max_entries)
        self.itemActivated.connect(lambda item: self.seek_requested.emit(float(item.data(Qt.UserRole))))

    def add_alert(self, alert: Alert, thumbnail: np.ndarray | None) -> QListWidgetItem:
        wall = time.strftime("%H:%M:%S", time.localtime(alert.raised_at))
        text = (
            f"{format_time(alert.since_pts_s)}  face #{alert.track_id}  p_fake {alert.p_fake:.2f}\n"
            f"above threshold {alert.at_pts_s - alert.since_pts_s:.1f} s · {wall}"
        )
        return self.add_entry(text, alert.since_pts_s, thumbnail)
