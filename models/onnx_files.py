"""A detector as two ONNX files, readable without torch: the per-crop embedding and the temporal head.

``<name>.embed.onnx`` maps crops (N, 3, S, S) normalised with the spec's mean/std, and for models
with a native canvas also canvases (N, 3, C, C) in [0, 1], to features (N, D); ``<name>.head.onnx``
maps windows of features (B, T, D) to logits (B,). Both carry the spec (JSON) and the sha256 of the
checkpoint they were exported from in their metadata, so the analysis path needs neither torch nor
the checkpoint file. Exporting needs torch (``models.onnx_export``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from models.spec import CheckpointError, ModelSpec

SPEC_KEY = "deepfake_analyzer_spec"
CHECKPOINT_KEY = "deepfake_analyzer_checkpoint_sha256"
SOURCE_KEY = "deepfake_analyzer_source"


def onnx_paths(prefix: Path) -> tuple[Path, Path]:
    """The embedding and head files of an export prefix (``models/checkpoints/detector``)."""
    return prefix.with_name(prefix.name + ".embed.onnx"), prefix.with_name(prefix.name + ".head.onnx")


def export_prefix(checkpoint: Path) -> Path:
    """Where a checkpoint's shipped export lives: ``detector.pt`` -> ``detector`` (.embed/.head.onnx)."""
    return checkpoint.with_suffix("")


@dataclass(frozen=True)
class OnnxDetector:
    """An exported detector held in memory (bytes, so it travels to Ray workers as it is)."""

    spec: ModelSpec
    source: str  # the checkpoint it came from, as outputs name it
    checkpoint_sha256: str
    embed_model: bytes
    head_model: bytes

    @property
    def wants_canvas(self) -> bool:
        return self.spec.canvas_size > 0


def _metadata(path: Path) -> dict[str, str]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return dict(session.get_modelmeta().custom_metadata_map)


def read_export(prefix: Path, expected_sha256: str | None = None) -> OnnxDetector | None:
    """The export at ``prefix``; None when it is missing or was made from another checkpoint."""
    embed_path, head_path = onnx_paths(prefix)
    if not (embed_path.is_file() and head_path.is_file()):
        return None
    try:
        metadata = _metadata(embed_path)
        spec = ModelSpec.from_dict(json.loads(metadata[SPEC_KEY]))
        sha = metadata[CHECKPOINT_KEY]
    except (KeyError, ValueError, OSError) as exc:
        raise CheckpointError(f"{embed_path} is not an export of this project: {exc}") from None
    except Exception as exc:  # onnxruntime raises its own types for damaged files
        raise CheckpointError(f"cannot read {embed_path}: {str(exc).splitlines()[0]}") from None
    if expected_sha256 is not None and sha != expected_sha256:
        return None
    return OnnxDetector(
        spec, metadata.get(SOURCE_KEY, str(prefix)), sha, embed_path.read_bytes(), head_path.read_bytes()
    )
