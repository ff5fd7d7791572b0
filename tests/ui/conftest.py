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
def small_engine(small_checkpoint: Path) -> Callable:
    """Builds engines on the small untrained checkpoint, on the CPU with one thread, as the app builds them."""
    from realtime.config import EngineConfig
    from realtime.engine import build_engine

    def build(**config):
        return build_engine(EngineConfig(device="cpu", torch_threads=1, **config), small_checkpoint)

    return build


@pytest.fixture
def open_window(qtbot, small_engine) -> Iterator[Callable]:
    """Opens a MainWindow on a source; at the end closes it and checks that every engine thread ended."""
    from ui.window import MainWindow, WindowSettings

    windows = []

    def factory(source: str | None, settings: WindowSettings | None = None, **config) -> MainWindow:
        window = MainWindow(small_engine(**config), settings)
        qtbot.addWidget(window)
        window.open_source(source)
        window.show()
        windows.append(window)
        return window

    yield factory
    for window in windows:
        window.close()
    assert not _engine_threads()
