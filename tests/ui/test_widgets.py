"""Widgets that must not hide what they show: the timeline's legend beside the curves, alert texts not clipped."""

from __future__ import annotations

import numpy as np
from PyQt5.QtCore import QRect, Qt
from PyQt5.QtWidgets import QApplication

from ui.results import TrackSeries
from ui.widgets import ThumbnailList, TimelinePlot


def test_the_timeline_legend_sits_beside_the_plot_area(qtbot):
    plot = TimelinePlot(0.5)
    qtbot.addWidget(plot)
    plot.resize(800, 200)
    plot.show()
    times = np.linspace(0.0, 10.0, 50)
    plot.set_series([TrackSeries(track_id, times, np.full(50, 0.97)) for track_id in (1, 2, 3)])
    plot.set_time_range(0.0, 10.0)
    QApplication.processEvents()
    legend = plot._legend.sceneBoundingRect()
    area = plot.getPlotItem().vb.sceneBoundingRect()
    assert len(plot._legend.items) == 3 and legend.width() > 20
    assert not legend.intersects(area), (legend, area)  # curves near 1.0, top right, stay visible
    assert legend.left() >= area.right() and plot.sceneRect().contains(legend)


def test_alert_entries_wrap_instead_of_being_cut(qtbot):
    alerts = ThumbnailList(icon_px=48)
    qtbot.addWidget(alerts)
    alerts.resize(220, 400)
    alerts.show()
    text = (
        "12:00:01  a-stream-with-a-long-name\nface #1  p_fake 0.93  (3 windows ≥ 0.84)\n"
        "so far: Uncertain: 12 suspicious moments (max 93%)"
    )
    item = alerts.add_entry(text, "a", np.zeros((48, 48, 3), dtype=np.uint8))
    QApplication.processEvents()
    rect = alerts.visualItemRect(item)
    text_width = alerts.viewport().width() - 48 - 12  # beside the icon
    needed = alerts.fontMetrics().boundingRect(QRect(0, 0, text_width, 10_000), Qt.TextWordWrap, text)
    assert rect.right() <= alerts.viewport().width()  # nothing runs off to the right
    assert rect.height() >= needed.height() * 0.9, (rect, needed)  # every wrapped line has room
    assert item.toolTip() == text
