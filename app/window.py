"""The window applications: the single-source window and the stream grid, opened when a display is there."""

from __future__ import annotations

from pathlib import Path

from app.startup import announce_loading
from common.exit_codes import fail
from realtime.config import EngineConfig


def run_window_app(source_spec: str | None, model_path: Path | None, config: EngineConfig) -> int:
    """Builds the engine and opens the window on ``source_spec``; returns the exit code.

    A model that cannot be used prints one ``error:`` line before any window opens.
    """
    from realtime.engine import EngineError, build_engine
    from ui.app import run_window  # PyQt5 loads only when a window will open

    announce_loading(model_path)
    try:
        engine = build_engine(config, model_path)
    except EngineError as exc:
        return fail(str(exc))
    return run_window(source_spec, engine)
