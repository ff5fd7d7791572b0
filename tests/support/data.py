"""Where tests find the repository and the optional ../shared/data clips."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def shared_data_or_skip() -> Path:
    """../shared/data, or skip the test with the reason."""
    if not (SHARED_DATA / "manifest.csv").is_file():
        pytest.skip(f"shared face data not present at {SHARED_DATA}")
    return SHARED_DATA


def shared_clip(label: str, name_prefix: str = "", min_frames: int = 48) -> Path:
    """The shortest video of ../shared/data with ``label`` whose file name starts with ``name_prefix``."""
    root = shared_data_or_skip()
    with open(root / "manifest.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["kind"] == "video" and r["label"] == label]
    rows = [r for r in rows if Path(r["file"]).name.startswith(name_prefix) and int(r["frames"] or 0) >= min_frames]
    rows.sort(key=lambda r: int(r["frames"]))
    for row in rows:
        if (root / row["file"]).is_file():
            return root / row["file"]
    pytest.skip(f"no {label} clip named {name_prefix}* in {root}")
