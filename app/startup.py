"""Checks and feedback before anything heavy loads: the --model file, folders given without --scan, the loading line."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from typing import TextIO

from realtime.sources.factory import names_live_source
from realtime.sources.images import IMAGE_SUFFIXES
from services.scan.files import list_videos


def model_file_error(model_path: Path | None) -> str | None:
    """``not a detector checkpoint: PATH`` when ``model_path`` is a file that cannot be one.

    A checkpoint is a file torch.save wrote: a zip archive holding a ``data.pkl``. A missing file is
    left to the engine, which says so.
    """
    if model_path is None or not model_path.exists():
        return None
    if model_path.is_file():
        try:
            with zipfile.ZipFile(model_path) as archive:
                if any(name.endswith("data.pkl") for name in archive.namelist()):
                    return None
        except (zipfile.BadZipFile, OSError):
            pass
    return f"not a detector checkpoint: {model_path}"


def folder_without_scan_error(source_spec: str | None) -> str | None:
    """A folder of videos given without --scan (a folder is read as images): the line that says to add --scan."""
    if not source_spec or names_live_source(source_spec):
        return None
    folder = Path(source_spec)
    if not folder.is_dir():
        return None
    if any(p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
        return None  # a folder of images: each image is scored on its own
    if list_videos(folder, recursive=False):
        return f"{source_spec} is a folder of videos: add --scan to analyse each one and write reports"
    if list_videos(folder, recursive=True):
        return f"{source_spec} holds videos in subfolders: add --scan --recursive to analyse them"
    return None


def announce_loading(model_path: Path | None, stream: TextIO = sys.stderr) -> None:
    """``loading model PATH ...`` on ``stream`` when it is a terminal (loading takes seconds; logs stay clean)."""
    if stream.isatty():
        name = model_path if model_path is not None else "the shipped detector (models/checkpoints/detector.pt)"
        stream.write(f"loading model {name} ...\n")
        stream.flush()
