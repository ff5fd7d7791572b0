"""Atomic file writes: a temporary file in the target folder, then a rename over the target."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yields a temporary path next to ``target`` (same suffix); renames it onto ``target`` when the block succeeds.

    A reader (or a resumed scan) sees either the old file or the whole new one, never a part.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=f".part{target.suffix}")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o644)  # mkstemp files are private; reports are ordinary files
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> None:
    """Writes ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def remove_leftovers(target: Path) -> None:
    """Deletes temporaries of ``target`` that a killed process left behind."""
    for leftover in target.parent.glob(f".{target.name}.*.part{target.suffix}"):
        leftover.unlink(missing_ok=True)
