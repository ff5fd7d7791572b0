"""The HTML report opens in a real headless browser and the screenshot shows the timeline plot."""

from __future__ import annotations

import shutil
import subprocess

import cv2
import numpy as np
import pytest

from services.scan.plot import TRACK_COLORS

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no chromium (Debian package: chromium)")


def screenshot(html, png, profile, size=(1200, 1000)) -> np.ndarray:
    command = [
        browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={png}",
        html.resolve().as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=90, check=True)
    image = cv2.imread(str(png))
    assert image is not None, "the browser wrote no screenshot"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def near(image: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 60) -> np.ndarray:
    return np.abs(image.astype(int) - np.array(rgb)).sum(axis=2) < tolerance


def hex_rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


def longest_runs(mask: np.ndarray) -> list[tuple[int, int, int]]:
    """Per row: (length, start, end) of its longest run of True."""
    runs = []
    for row in mask:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
        starts, ends = edges[0::2], edges[1::2]
        if len(starts) == 0:
            runs.append((0, 0, 0))
            continue
        best = int(np.argmax(ends - starts))
        runs.append((int(ends[best] - starts[best]), int(starts[best]), int(ends[best])))
    return runs


def plot_area(shot: np.ndarray, min_width: int = 500) -> np.ndarray | None:
    """The inside of the plot's axes: between the black top and bottom spines, the only long dark lines on the page."""
    runs = longest_runs(shot.max(axis=2) < 60)
    spines = [(row, start, end) for row, (length, start, end) in enumerate(runs) if length >= min_width]
    if len(spines) < 2 or spines[-1][0] - spines[0][0] < 50:
        return None
    top, bottom = spines[0][0], spines[-1][0]
    left, right = spines[0][1], spines[0][2]
    return shot[top + 3 : bottom - 2, left + 3 : right - 3]


def test_html_report_shows_the_timeline_plot_in_a_browser(one_face_scan, tmp_path):
    shot = screenshot(one_face_scan.paths.html, tmp_path / "report.png", tmp_path / "profile")
    area = plot_area(shot)
    assert area is not None, "no plot axes on screen"
    assert area.shape[0] > 150 and area.shape[1] > 600
    assert (area.min(axis=2) < 250).mean() > 0.05  # not a blank box: grid, shading, lines
    line = near(area, hex_rgb(TRACK_COLORS[0]), 40)
    # The face is scored from its first window to the end of the clip: its line crosses most of the plot.
    assert line.any(axis=0).mean() > 0.6, "the face's score line is not drawn across the plot"
    reddish = area[..., 0].astype(int) - area[..., 1].astype(int) > 100
    assert reddish.any(axis=0).mean() > 0.3  # the dashed threshold line runs across


def test_the_plot_check_fails_on_a_report_without_its_plot(one_face_scan, tmp_path):
    html = one_face_scan.paths.html.read_text()
    start = html.index("<img id=timeline")
    stripped = tmp_path / "no_plot.html"
    stripped.write_text(html[:start] + html[html.index(">", start) + 1 :])
    assert plot_area(screenshot(stripped, tmp_path / "no_plot.png", tmp_path / "profile")) is None
