"""CLIP ViT-B/16's image tower as a float32 ONNX graph, written from its weights (no torch).

The graph takes ``pixel_values`` (N, 3, S, S), normalised with CLIP's mean and std, and returns
``features`` (N, K * 768): the K token summaries a detector reads, concatenated in the order asked
for. A summary is the CLS token, the mean of all patch tokens, or the mean of the patch tokens over
one face region (mouth, eyes), of the residual stream after one block (1-12). Layer norms are ONNX
``LayerNormalization`` (opset 17), which ONNX Runtime runs as one kernel; attention is written out
(MatMul, Softmax, MatMul) as in the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.clip.weights import DEPTH, HEADS, LAYER_NORM_EPS, PATCH, WIDTH, position_embedding

OPSET = 17
INPUT_NAME = "pixel_values"
OUTPUT_NAME = "features"
SUMMARY_KINDS = ("cls", "patch_mean", "mouth_mean", "eyes_mean")
# Face regions of the model's crop (the square 1.3 x dlib box the engine cuts, not rotated) as fractions of
# the patch grid, rows then columns, [start, end). Measured on 1,713 crops of the crop cache (68 landmarks,
# 224 px, 14 x 14 grid): the mouth's landmarks lie in rows 7.9-12.1 and columns 4.2-10.1 for 96% of crops,
# the eyes' in rows 3.3-6.5 and columns 2.9-11.0; a column more on each side holds a wide face (the demo
# portrait's mouth corners reach column 3.75). A lip sync or an eye blend changes only these tokens; the
# CLS token and the whole-face mean dilute them among the other ~160.
REGIONS = {
    "mouth_mean": ((8 / 14, 12 / 14), (3 / 14, 11 / 14)),
    "eyes_mean": ((3 / 14, 7 / 14), (2 / 14, 12 / 14)),
}


@dataclass(frozen=True)
class TokenSummary:
    """One 768-d reading of the tower after ``block`` (1-12): the CLS token, the mean of all patch tokens
    or of a face region's patch tokens (:data:`REGIONS`)."""

    block: int
    kind: str = "cls"

    def __post_init__(self) -> None:
        if not 1 <= self.block <= DEPTH:
            raise ValueError(f"CLIP ViT-B/16 has blocks 1-{DEPTH}, not {self.block}")
        if self.kind not in SUMMARY_KINDS:
            raise ValueError(f"token summary must be one of {SUMMARY_KINDS}, not {self.kind!r}")

    @property
    def label(self) -> str:
        return f"{self.kind}{self.block}"


def region_token_indices(kind: str, grid: int) -> np.ndarray | None:
    """Token positions (CLS is 0, patches row by row from 1) a summary of ``kind`` averages on a
    ``grid`` x ``grid`` patch grid; None for the CLS token."""
    if kind == "cls":
        return None
    if kind == "patch_mean":
        return np.arange(1, 1 + grid * grid)
    (top, bottom), (left, right) = REGIONS[kind]
    rows = np.arange(round(top * grid), round(bottom * grid))
    columns = np.arange(round(left * grid), round(right * grid))
    return (1 + rows[:, None] * grid + columns[None, :]).ravel()


def parse_summaries(text: str) -> tuple[TokenSummary, ...]:
    """``"cls12"``, ``"cls8,cls12,patch_mean12"`` -> the summaries (the spec's way of naming them)."""
    summaries = []
    for item in text.split(","):
        item = item.strip()
        kind = next((k for k in sorted(SUMMARY_KINDS, key=len, reverse=True) if item.startswith(k)), None)
        if kind is None or not item[len(kind) :].isdigit():
            raise ValueError(f"not a token summary: {item!r} (e.g. cls12 or patch_mean8)")
        summaries.append(TokenSummary(int(item[len(kind) :]), kind))
    return tuple(summaries)


def summaries_text(summaries: Sequence[TokenSummary]) -> str:
    return ",".join(s.label for s in summaries)


class _GraphBuilder:
    """Accumulates nodes and initializers with unique names."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def constant(self, stem: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name(stem)
        # np.ascontiguousarray would turn a scalar into shape (1,): copy in C order instead.
        self.initializers.append(numpy_helper.from_array(np.array(value, order="C"), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], stem: str | None = None, **attributes) -> str:
        from onnx import helper

        output = self.name(stem or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=output, **attributes))
        return output

    def linear(self, x: str, weights: dict[str, np.ndarray], prefix: str) -> str:
        """x @ W.T + b, with W stored transposed once so MatMul reads it in its natural layout."""
        weight = self.constant(prefix + ".weight_t", weights[prefix + ".weight"].T.astype(np.float32))
        bias = self.constant(prefix + ".bias", weights[prefix + ".bias"])
        return self.op("Add", [self.op("MatMul", [x, weight]), bias])

    def layer_norm(self, x: str, weights: dict[str, np.ndarray], prefix: str) -> str:
        scale = self.constant(prefix + ".weight", weights[prefix + ".weight"])
        bias = self.constant(prefix + ".bias", weights[prefix + ".bias"])
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=LAYER_NORM_EPS)


def _attention(g: _GraphBuilder, x: str, weights: dict[str, np.ndarray], prefix: str) -> str:
    qkv = g.linear(x, weights, prefix + ".qkv")  # (N, T, 3 * 768)
    head_dim = WIDTH // HEADS
    split = g.op("Reshape", [qkv, g.constant("qkv_shape", np.array([0, 0, 3, HEADS, head_dim], np.int64))])
    heads = g.op("Transpose", [split], perm=[2, 0, 3, 1, 4])  # (3, N, heads, T, 64)
    q, k, v = (g.op("Gather", [heads, g.constant("index", np.array(i, np.int64))], axis=0) for i in range(3))
    q = g.op("Mul", [q, g.constant("scale", np.array(head_dim**-0.5, np.float32))])
    scores = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])])
    mixed = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])  # (N, heads, T, 64)
    merged = g.op("Transpose", [mixed], perm=[0, 2, 1, 3])
    merged = g.op("Reshape", [merged, g.constant("merge_shape", np.array([0, 0, WIDTH], np.int64))])
    return g.linear(merged, weights, prefix + ".proj")


def _mlp(g: _GraphBuilder, x: str, weights: dict[str, np.ndarray], prefix: str) -> str:
    hidden = g.linear(x, weights, prefix + ".fc1")
    # QuickGELU, as OpenAI trained CLIP: x * sigmoid(1.702 x).
    gate = g.op("Sigmoid", [g.op("Mul", [hidden, g.constant("quick_gelu", np.array(1.702, np.float32))])])
    return g.linear(g.op("Mul", [hidden, gate]), weights, prefix + ".fc2")


def _summary(g: _GraphBuilder, tokens: str, kind: str, grid: int) -> str:
    """(N, T, 768) -> (N, 768)."""
    if kind == "cls":
        return g.op("Gather", [tokens, g.constant("cls_index", np.array(0, np.int64))], axis=1)
    if kind != "patch_mean":
        indices = region_token_indices(kind, grid).astype(np.int64)
        region = g.op("Gather", [tokens, g.constant(kind + "_index", indices)], axis=1)
        return g.op("ReduceMean", [region], axes=[1], keepdims=0)
    patches = g.op(
        "Slice",
        [
            tokens,
            g.constant("start", np.array([1], np.int64)),
            g.constant("end", np.array([np.iinfo(np.int64).max], np.int64)),
            g.constant("axis", np.array([1], np.int64)),
        ],
    )
    return g.op("ReduceMean", [patches], axes=[1], keepdims=0)


def build_graph(weights: dict[str, np.ndarray], input_size: int, summaries: Sequence[TokenSummary]):
    """The ONNX model (an ``onnx.ModelProto``) of the tower at ``input_size`` px reading ``summaries``."""
    from onnx import TensorProto, helper

    if not summaries:
        raise ValueError("the graph needs at least one token summary to return")
    last_block = max(s.block for s in summaries)
    g = _GraphBuilder()
    patches = g.op("Conv", [INPUT_NAME, g.constant("patch_weight", weights["patch_embed.proj.weight"])],
                   kernel_shape=[PATCH, PATCH], strides=[PATCH, PATCH])  # fmt: skip
    patches = g.op("Reshape", [patches, g.constant("flat", np.array([0, WIDTH, -1], np.int64))])
    patches = g.op("Transpose", [patches], perm=[0, 2, 1])  # (N, g*g, 768)
    batch = g.op("Shape", [INPUT_NAME], start=0, end=1)
    cls_shape = g.op("Concat", [batch, g.constant("cls_rest", np.array([1, WIDTH], np.int64))], axis=0)
    cls = g.op("Expand", [g.constant("cls_token", weights["cls_token"]), cls_shape])
    tokens = g.op("Concat", [cls, patches], axis=1)
    tokens = g.op("Add", [tokens, g.constant("pos_embed", position_embedding(weights["pos_embed"], input_size))])
    x = g.layer_norm(tokens, weights, "norm_pre")
    readings: dict[tuple[int, str], str] = {}
    for block in range(1, last_block + 1):
        prefix = f"blocks.{block - 1}"
        x = g.op("Add", [x, _attention(g, g.layer_norm(x, weights, prefix + ".norm1"), weights, prefix + ".attn")])
        x = g.op("Add", [x, _mlp(g, g.layer_norm(x, weights, prefix + ".norm2"), weights, prefix + ".mlp")])
        for summary in summaries:
            if summary.block == block and (block, summary.kind) not in readings:
                readings[(block, summary.kind)] = _summary(g, x, summary.kind, input_size // PATCH)
    parts = [readings[(s.block, s.kind)] for s in summaries]
    features = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)
    g.nodes.append(helper.make_node("Identity", [features], [OUTPUT_NAME], name="features"))
    graph = helper.make_graph(
        g.nodes,
        "clip_vit_b16_image_tower",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, input_size, input_size])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", WIDTH * len(summaries)])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="deepfake-analyzer")
    model.ir_version = 8  # readable by every ONNX Runtime this project pins
    return model
