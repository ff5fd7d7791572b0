"""One tile of the stream grid: live video with face boxes, the stream's name, a max-p_fake bar, figures, alerts."""

from __future__ import annotations

import html

import numpy as np
from PyQt5.QtCore import QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PyQt5.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from realtime.colors import RED, score_color
from realtime.frames import AnalyzedFrame
from realtime.verdicts import REAL, Judgement, percent
from services.multistream.status import StreamFigures
from ui.thumbnail import face_thumbnail
from ui.widgets import FaceOverlay, VideoView, qcolor

BORDER_PX = 4
QUIET_BORDER = (60, 60, 60)
TILE_BACKGROUND = (24, 24, 24)
CAVEAT_STYLE = "color: #ffd180;"  # amber on the dark tile: read beside a green "Likely real"


class ScoreBar(QWidget):
    """A horizontal bar of one p_fake against the threshold (a white tick), coloured like the face boxes."""

    def __init__(self, threshold: float) -> None:
        super().__init__()
        self.threshold = threshold
        self.value: float | None = None
        self.text: str | None = None  # replaces "max p_fake X" (a stream that ended shows its verdict)
        self.setFixedHeight(18)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self._font = QFont()
        self._font.setPixelSize(12)

    def set_value(self, value: float | None, text: str | None = None) -> None:
        if value != self.value or text != self.text:
            self.value, self.text = value, text
            self.setToolTip(text or "")
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        width, height = self.width(), self.height()
        painter.fillRect(self.rect(), QColor(55, 55, 55))
        if self.value is not None:
            filled = round(width * min(max(self.value, 0.0), 1.0))
            painter.fillRect(0, 0, filled, height, qcolor(score_color(self.value, self.threshold)))
        tick = round(width * self.threshold)
        painter.setPen(QPen(Qt.white, 2))
        painter.drawLine(tick, 0, tick, height)
        painter.setFont(self._font)
        text = self.text or ("no face scored" if self.value is None else f"max p_fake {self.value:.2f}")
        painter.setPen(Qt.white)
        text = painter.fontMetrics().elidedText(text, Qt.ElideRight, max(width - 12, 0))
        painter.drawText(QRectF(6, 0, width - 12, height), Qt.AlignLeft | Qt.AlignVCenter, text)
        painter.end()


def figures_text(figures: StreamFigures) -> str:
    """``12.3 fps · 41 ms · 1 face · 0 alerts · running``."""
    latency = "-" if figures.latency_ms is None else f"{figures.latency_ms:.0f}"
    faces = "face" if figures.faces == 1 else "faces"
    alerts = "alert" if figures.alerts == 1 else "alerts"
    return (
        f"{figures.fps:.1f} fps · {latency} ms · {figures.faces} {faces} · {figures.alerts} {alerts} · {figures.state}"
    )


def final_text(judgement: Judgement, video_p_fake: float | None) -> str:
    """The bar of a stream that ended: ``Likely real · video score 23%`` (the verdict's own wording)."""
    if video_p_fake is None:
        return judgement.headline
    return f"{judgement.headline} · video score {percent(video_p_fake)}"


class StreamTile(QWidget):
    """One stream in the grid. A red border marks an alert until the tile is clicked; a double-click asks to focus."""

    double_clicked = pyqtSignal(str)

    def __init__(self, name: str, masked_source: str, threshold: float, likely_real_caveat: str = "") -> None:
        """``likely_real_caveat``: :func:`realtime.verdicts.likely_real_caveat` of the model, shown under the bar
        once the stream ended with a ``Likely real`` verdict."""
        super().__init__()
        self.name = name
        self.threshold = threshold
        self.alerting = False
        self.ended = False
        self.frames_shown = 0
        self.shown: AnalyzedFrame | None = None
        self.title = QLabel(f"<b>{name}</b>  {html.escape(masked_source)}")
        self.title.setTextFormat(Qt.RichText)
        self.title.setToolTip(masked_source)
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # a long URL must not widen the grid
        self.video = VideoView()
        self.video.setMinimumSize(160, 90)
        self.video.message = "waiting for frames…"
        self.bar = ScoreBar(threshold)
        self.figures = QLabel("-")
        self.figures.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.caveat = QLabel(likely_real_caveat)
        self.caveat.setWordWrap(True)
        self.caveat.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.caveat.setStyleSheet(CAVEAT_STYLE)
        self.caveat.setTextInteractionFlags(Qt.NoTextInteraction)
        self.caveat.hide()
        for label in (self.title, self.figures):
            label.setStyleSheet("color: white;")
            label.setTextInteractionFlags(Qt.NoTextInteraction)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(BORDER_PX + 2, BORDER_PX + 2, BORDER_PX + 2, BORDER_PX + 2)
        layout.setSpacing(3)
        layout.addWidget(self.title)
        layout.addWidget(self.video, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.caveat)
        layout.addWidget(self.figures)

    def sizeHint(self) -> QSize:
        return QSize(480, 340)

    def _overlays(self, analyzed: AnalyzedFrame, scores: dict[int, float]) -> list[FaceOverlay]:
        overlays = []
        for face in analyzed.faces:
            p_fake = scores.get(face.track_id)
            overlays.append(FaceOverlay(face.track_id, face.box, p_fake, score_color(p_fake, self.threshold), False))
        return overlays

    def show_frame(self, analyzed: AnalyzedFrame, scores: dict[int, float]) -> None:
        """Shows the newest analysed frame, each face boxed with its newest score."""
        overlays = self._overlays(analyzed, scores)
        if self.shown is None:
            self.video.message = ""
        self.shown = analyzed
        self.frames_shown += 1
        self.video.set_frame(analyzed.frame.image, overlays)

    def set_figures(self, figures: StreamFigures) -> None:
        """Live figures; once the stream ended, its final video score and verdict stay on the bar, and under a
        ``Likely real`` one the kinds of fakes the model is known to miss."""
        final = figures.judgement if self.ended else None
        if final is not None:
            self.bar.set_value(figures.video_p_fake, final_text(final, figures.video_p_fake))
        else:
            self.bar.set_value(figures.max_p_fake)
        self.caveat.setVisible(final is not None and final.verdict == REAL and bool(self.caveat.text()))
        self.figures.setText(figures_text(figures))
        self.figures.setToolTip(figures.judgement.headline if figures.judgement is not None else "")

    def set_ended(self, error: str | None) -> None:
        """The stream's threads ended: says so over the video (with the error of a failed stream)."""
        self.ended = True
        self.video.message = f"failed: {error}" if error else "stream ended"
        self.video.setToolTip(error or "")
        self.video.update()

    def rescore(self, scores: dict[int, float]) -> None:
        """Redraws the boxes of the frame shown with the newest scores (verdicts that came after the frame:
        the last frame of a short clip is shown before its windows are scored)."""
        if self.shown is not None:
            self.video.set_overlays(self._overlays(self.shown, scores))

    def raise_alert(self) -> None:
        self.alerting = True
        self.update()

    def acknowledge(self) -> None:
        if self.alerting:
            self.alerting = False
            self.update()

    def face_thumbnail(self, track_id: int) -> np.ndarray | None:
        """The face ``track_id`` cut from the frame shown (:func:`ui.thumbnail.face_thumbnail`); None when it is
        not in view."""
        if self.shown is None:
            return None
        for face in self.shown.faces:
            if face.track_id == track_id:
                return face_thumbnail(self.shown.frame.image, face.box)
        return None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), qcolor(RED if self.alerting else QUIET_BORDER))
        inner = self.rect().adjusted(BORDER_PX, BORDER_PX, -BORDER_PX, -BORDER_PX)
        painter.fillRect(inner, qcolor(TILE_BACKGROUND))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.acknowledge()
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.double_clicked.emit(self.name)
