"""The sources opened lately, remembered across runs; an address that carries credentials is never stored."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import QSettings

from common.urls import mask_url

KEY = "recent_sources"


def default_settings() -> QSettings:
    """Per-user settings of the window (``~/.config/deepfake-analyzer/live-window.conf`` on Linux)."""
    return QSettings("deepfake-analyzer", "live-window")


class RecentSources:
    """Newest first, without duplicates, at most ``limit`` entries."""

    def __init__(self, settings: QSettings, limit: int = 8) -> None:
        self.settings = settings
        self.limit = limit

    def entries(self) -> list[str]:
        value = self.settings.value(KEY, [])
        if isinstance(value, str):  # QSettings returns a one-item list as a plain string
            value = [value]
        return [str(entry) for entry in value or []]

    def remember(self, spec: str | None) -> None:
        """Puts ``spec`` first; the demo clip (None) and addresses with user, password or token are skipped."""
        if spec is None or mask_url(spec) != spec:
            return
        if Path(spec).exists():
            spec = str(Path(spec).resolve())  # reopens from any working directory
        entries = [spec, *(entry for entry in self.entries() if entry != spec)][: self.limit]
        self.settings.setValue(KEY, entries)
        self.settings.sync()
