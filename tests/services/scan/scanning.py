"""Builds scanners for the scan tests the way run_scan does; compares report sets of two runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from realtime.config import EngineConfig


def make_scanner(checkpoint: Path, explanations: int = 2, **overrides):
    """A Scanner on the CPU with one thread, its scorer built as run_scan builds it."""
    from models.checkpoint import file_sha256
    from realtime.engine import build_engine
    from services.scan.report_json import ModelIdentity
    from services.scan.runner import Scanner

    engine = build_engine(EngineConfig(device="cpu", torch_threads=1, **overrides), checkpoint, for_scan=True)
    identity = ModelIdentity(engine.model_source, file_sha256(checkpoint), engine.spec)
    return Scanner(engine, identity, explanations)


def comparable(path: Path) -> str:
    """A report file without what differs between runs of the same scan (time of writing, run figures)."""
    text = path.read_text()
    if path.suffix == ".json":
        data = json.loads(text)
        data.pop("generated_at")
        data.pop("run")
        return json.dumps(data, sort_keys=True)
    return re.sub(r"generated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "generated ...", text)


def report_files(out: Path) -> dict[str, Path]:
    """Every report file below ``out`` by its path relative to ``out``."""
    return {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*.deepfake.*"))}
