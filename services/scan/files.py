"""Which files a scan treats as videos (pure path logic, cheap to import)."""

from __future__ import annotations

from pathlib import Path

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".flv", ".wmv"})


def is_video_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith(".")


def list_videos(folder: Path, recursive: bool) -> list[Path]:
    """Video files in ``folder`` (and below it when ``recursive``), in a stable sorted order."""
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in candidates if is_video_file(p))
