"""The window's "About this model" panel and the note beside its "Likely real" verdict.

Every word comes from :mod:`realtime.verdicts` (the coverage table, the kinds the model misses, calibration,
the threshold), so the panel says what the reports and the summaries say.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QColor, QFont, QFontMetrics, QResizeEvent
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGroupBox,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from realtime.verdicts import (
    COVERAGE_CAPTION,
    COVERAGE_HEADERS,
    MISSED,
    NO_EVALUATION,
    TOO_FEW_CLIPS,
    CoverageRow,
    calibration_line,
    coverage_table,
    kind_title,
    likely_real_caveat,
    threshold_text,
)

STATUS_COLORS = {MISSED: QColor(198, 40, 40), TOO_FEW_CLIPS: QColor(138, 83, 0)}  # as in the HTML report
NUMBER_COLUMNS = (1, 2)  # "fakes" and "video AUC" are right-aligned, as in the HTML report
GROUP_BACKGROUND = QColor(228, 234, 244)
BREAK_BEFORE_PARENTHESIS = (2, 3)  # narrowed, these break only before "(": an AUC's CI, a result's rule
CELL_PADDING_PX = 8
TABLE_FONT_SCALE = 0.9  # a small table: the side panel is narrow
CAVEAT_STYLE = "background: #fff3cd; border-left: 4px solid #b26a00; color: #202020; padding: 4px 6px;"


def about_notes(metrics: Mapping[str, Any], trained: bool, threshold: float) -> str:
    """The text under the table: the kinds the model misses (:func:`realtime.verdicts.likely_real_caveat`), whether
    p_fake is calibrated, what the threshold means (an untrained model says only that its scores are not
    verdicts)."""
    if not trained:
        return "Untrained model: its scores are not verdicts."
    misses = f"{likely_real_caveat(metrics)}\n\n" if coverage_table(metrics) else ""  # else the caption says it
    return f"{misses}{calibration_line(metrics)}\n\nThreshold: {threshold_text(threshold)}."


class CoverageTable(QTableWidget):
    """The coverage table (:func:`realtime.verdicts.coverage_table`): one read-only row per kind of fake under the
    title of its group (:func:`realtime.verdicts.kind_title`), the result of a missed kind in red.

    Its columns fit the panel's width: when the cells do not fit on one line, a kind of fake wraps between words
    and an AUC or a result before its parenthesis (``0.83`` over ``(0.72–0.93)``). It is as tall as its rows:
    the panel around it scrolls.
    """

    def __init__(self, rows: list[CoverageRow]) -> None:
        super().__init__(0, len(COVERAGE_HEADERS))
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.NoSelection)
        self.setFocusPolicy(Qt.NoFocus)
        self.setWordWrap(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        small = QFont(self.font())
        small.setPointSizeF(small.pointSizeF() * TABLE_FONT_SCALE)
        self.setFont(small)
        self.bold = QFont(small)
        self.bold.setBold(True)
        header = self.horizontalHeader()
        header.setFont(small)
        header.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.Fixed)
        self.setHorizontalHeaderLabels([_broken(title) for title in COVERAGE_HEADERS])
        self.cells: dict[int, tuple[str, ...]] = {}  # table row -> the cells of a kind of fake, or a group's title
        kind = None
        for row in rows:
            if row.kind != kind:
                kind = row.kind
                self._add_group(kind_title(kind))
            self._add_row(row)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self._fit()

    def _add_group(self, title: str) -> None:
        index = self.rowCount()
        self.insertRow(index)
        item = QTableWidgetItem(title)
        item.setFont(self.bold)
        item.setBackground(GROUP_BACKGROUND)
        self.setItem(index, 0, item)
        self.setSpan(index, 0, 1, self.columnCount())
        self.cells[index] = (title,)

    def _add_row(self, row: CoverageRow) -> None:
        index = self.rowCount()
        self.insertRow(index)
        self.cells[index] = row.cells()
        for column, text in enumerate(row.cells()):
            item = QTableWidgetItem(text)
            if column in NUMBER_COLUMNS:
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if column == len(COVERAGE_HEADERS) - 1 and row.status in STATUS_COLORS:
                item.setForeground(STATUS_COLORS[row.status])
            self.setItem(index, column, item)

    def _fit(self) -> None:
        """Each column as wide as its widest cell when the table fits; else the wrapping columns give up width in
        proportion to what they can give, down to their widest unbreakable part (narrower still: the panel
        scrolls sideways)."""
        plain = QFontMetrics(self.font())
        kinds = [cells for cells in self.cells.values() if len(cells) > 1]
        natural, least = [], []
        for column, title in enumerate(COVERAGE_HEADERS):
            texts = [cells[column] for cells in kinds]
            parts = [*_broken(title).split("\n"), *(part for text in texts for part in _unbreakable(text, column))]
            natural.append(max(plain.horizontalAdvance(text) for text in [*texts, *parts]) + CELL_PADDING_PX)
            least.append(max(plain.horizontalAdvance(part) for part in parts) + CELL_PADDING_PX)
        available = self.viewport().width()
        widths = list(natural)
        excess, slack = sum(natural) - available, sum(n - m for n, m in zip(natural, least, strict=True))
        if excess > 0 and slack > 0:
            share = min(1.0, excess / slack)
            widths = [n - math.ceil(share * (n - m)) for n, m in zip(natural, least, strict=True)]
        widths[-1] += max(0, available - sum(widths))  # the last column takes what is left
        for column, width in enumerate(widths):
            self.setColumnWidth(column, width)
            if column not in BREAK_BEFORE_PARENTHESIS:
                continue
            for row, cells in self.cells.items():
                text = cells[column] if len(cells) > 1 else None
                if text is not None:
                    self.item(row, column).setText(text if width >= natural[column] else _broken(text))
        self.setMinimumWidth(sum(least) + 2 * self.frameWidth())
        self.resizeRowsToContents()
        for row, cells in self.cells.items():
            if len(cells) == 1:  # a group's title spans the row: one line, whatever the first column's width
                self.setRowHeight(row, plain.height() + CELL_PADDING_PX // 2)
        rows = sum(self.rowHeight(row) for row in range(self.rowCount()))
        self.setFixedHeight(self.horizontalHeader().sizeHint().height() + rows + 2 * self.frameWidth())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def rows_text(self) -> list[tuple[str, ...]]:
        """What the table shows, row by row (line breaks read as spaces): a group's title alone, a kind of fake's
        four cells."""
        shown = []
        for row, cells in self.cells.items():
            shown.append(tuple(self.item(row, column).text().replace("\n", " ") for column in range(len(cells))))
        return shown


def _unbreakable(text: str, column: int) -> list[str]:
    """The parts of a cell that never wrap: its words, but an AUC's or a result's parenthesis whole."""
    if column in BREAK_BEFORE_PARENTHESIS and " (" in text:
        return _broken(text).split("\n")
    return text.split()


def _broken(text: str) -> str:
    """``text`` with a line break before its parenthesis: ``video AUC`` over ``(95% CI)``."""
    return text.replace(" (", "\n(")


class ModelAbout(QGroupBox):
    """The "About this model" panel: the coverage table, what its figures mean, then :func:`about_notes`; all of
    it scrolls rather than being cut when the panel is short."""

    def __init__(self, metrics: Mapping[str, Any], trained: bool, threshold: float, min_height_px: int) -> None:
        super().__init__("About this model")
        rows = coverage_table(metrics) if trained else []
        self.caption = QLabel(COVERAGE_CAPTION if rows else NO_EVALUATION)
        self.caption.setVisible(trained)
        self.table = CoverageTable(rows)
        self.table.setVisible(bool(rows))
        self.notes = QLabel(about_notes(metrics, trained, threshold))
        for label in (self.caption, self.notes):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
            label.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(self.caption)
        layout.addWidget(self.notes)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setMinimumHeight(min_height_px)
        QVBoxLayout(self).addWidget(scroll)


class LikelyRealCaveat(QLabel):
    """The note right under the window's verdict, shown only while the verdict is ``Likely real``:
    :func:`realtime.verdicts.likely_real_caveat` (the kinds of fakes the model is known to miss)."""

    def __init__(self, metrics: Mapping[str, Any]) -> None:
        super().__init__(likely_real_caveat(metrics))
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.setStyleSheet(CAVEAT_STYLE)
        self.hide()
