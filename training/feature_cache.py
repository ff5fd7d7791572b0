"""The CLIP feature cache: every token summary of the tower (CLS, patch mean, and the mouth's and the eyes'
patch means after each of the 12 blocks, fp16) for chosen face crops of each clip, computed once per
(crop, variant) and reused by every head, comparison and evaluation.

Layout: ``<root>/<variant>/<clip_id>.npz`` with ``features`` (K, 48, 768) float16 (rows: cls1..cls12,
patch_mean1..12, mouth_mean1..12, eyes_mean1..12), ``frame_index`` (K,) and ``crop_index`` (K,)
(positions in the crop cache's clip). A variant names how the crops were made before the forward:
``clean`` (as cut), or a synthesis family and degradation. Files are written atomically, so an
interrupted build resumes where it stopped.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.paths import cache_dir
from models.clip.graph import SUMMARY_KINDS, TokenSummary

ALL_SUMMARIES = tuple(TokenSummary(block, kind) for kind in SUMMARY_KINDS for block in range(1, 13))
SUMMARY_ROWS = {summary.label: row for row, summary in enumerate(ALL_SUMMARIES)}


# The layout's version is in the root's name: caches of 24 rows (before the face regions) sit in
# ``<size>px`` and are never read as 48-row ones.
LAYOUT = "v2"


def default_feature_root(input_size: int = 224) -> Path:
    return cache_dir() / "clip_features" / f"{input_size}px.{LAYOUT}"


@dataclass(frozen=True)
class FeatureEntry:
    """The cached summaries of K crops of one clip in one variant."""

    features: np.ndarray  # (K, 48, 768) float16
    frame_index: np.ndarray  # (K,) frame numbers in the clip
    crop_index: np.ndarray  # (K,) positions in the crop cache's clip

    def select(self, summaries: Sequence[TokenSummary]) -> np.ndarray:
        """(K, len(summaries) * 768) float32: the summaries a head reads, concatenated as the runtime does."""
        rows = [SUMMARY_ROWS[summary.label] for summary in summaries]
        return self.features[:, rows].astype(np.float32).reshape(len(self.features), -1)


class FeatureCache:
    """Reads and writes feature entries under one root (one input size)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, variant: str, clip_id: str) -> Path:
        return self.root / variant / f"{clip_id}.npz"

    def has(self, variant: str, clip_id: str) -> bool:
        return self.path(variant, clip_id).is_file()

    def read(self, variant: str, clip_id: str) -> FeatureEntry:
        with np.load(self.path(variant, clip_id)) as data:
            return FeatureEntry(data["features"], data["frame_index"], data["crop_index"])

    def write(self, variant: str, clip_id: str, entry: FeatureEntry) -> None:
        path = self.path(variant, clip_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as handle:
            np.savez(
                handle,
                features=entry.features.astype(np.float16),
                frame_index=entry.frame_index.astype(np.int32),
                crop_index=entry.crop_index.astype(np.int32),
            )
        os.replace(handle.name, path)

    def variants(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []
