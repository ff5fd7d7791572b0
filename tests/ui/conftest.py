"""The window tests run offscreen with one small model loaded once; every window is closed and its threads checked."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"

ENGINE_THREAD_PREFIXES = ("capture[", "faces[", "inference", "playback[", "session-watcher")


def _engine_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(ENGINE_THREAD_PREFIXES)]


@pytest.fixture
def engine_threads() -> Callable[[], list[str]]:
    """Lists the names of the analysis and playback threads still alive."""
    return _engine_threads


@pytest.fixture(scope="session")
def small_model(small_checkpoint: Path):
    """The small untrained checkpoint, loaded once, and its CPU scorer."""
    from models.registry import load_model
    from realtime.inference import CropScorer, select_device

    loaded = load_model(small_checkpoint)
    return loaded, CropScorer(loaded, select_device("cpu"))


@pytest.fixture
def open_window(qtbot, small_model) -> Iterator[Callable]:
    """Opens a MainWindow on a source; at the end closes it and checks that every engine thread ended."""
    from realtime.config import EngineConfig
    from ui.window import MainWindow, WindowSettings

    windows = []

    def factory(source: str | None, settings: WindowSettings | None = None, **config) -> MainWindow:
        loaded, scorer = small_model
        window = MainWindow(loaded, scorer, EngineConfig(device="cpu", torch_threads=1, **config), settings)
        qtbot.addWidget(window)
        window.open_source(source)
        window.show()
        windows.append(window)
        return window

    yield factory
    for window in windows:
        window.close()
    assert not _engine_threads()
