"""Where the analyzer keeps generated files: the demo clip, ONNX exports, benchmark clips.

``$DEEPFAKE_ANALYZER_CACHE`` wins; else ``$XDG_CACHE_HOME/deepfake-analyzer``; else
``~/.cache/deepfake-analyzer``. Tests point ``XDG_CACHE_HOME`` at a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "deepfake-analyzer"


def cache_dir() -> Path:
    """The analyzer's cache folder (not created here)."""
    explicit = os.environ.get("DEEPFAKE_ANALYZER_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / APP_NAME if xdg else Path.home() / ".cache" / APP_NAME


def onnx_cache_dir() -> Path:
    """Where exported ONNX models are kept, one file per checkpoint."""
    return cache_dir() / "onnx"
