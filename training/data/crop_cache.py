"""The crop cache's on-disk format, in one place: the extractor (``training.data.prepare``) writes it through
these functions and every reader (datasets, splits, evaluation, feature caches) reads it through them.

    <cache>/config.json         the settings the crops were made with (:class:`PrepareConfig`, indented JSON)
    <cache>/index.jsonl         one :class:`ClipEntry` a line (a JSON object, keys in field order)
    <cache>/clips/<id>.npz      a clip's arrays (:data:`CLIP_ARRAYS`), compressed
    <cache>/clips/<id>.json     the clip's entry beside its arrays (one line, no newline), written last by the
                                extractor so that a run cut short resumes from the clips it finished

The format is the one caches were written in before this module existed, byte for byte: an index read and
written again is the same file.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from common.paths import cache_dir
from faces.crops import CropSettings
from training.data.readers import MediaRecord

INDEX_NAME = "index.jsonl"
CONFIG_NAME = "config.json"
CLIPS_FOLDER = "clips"
# The arrays of a cached clip: (N, C, C, 3) uint8 native canvases, (N,) side of the margin crop in each canvas,
# (N, 68, 2) landmarks in canvas pixels, (N,) frame numbers, (N,) segment ids, (N, 4) frame boxes x0 y0 x1 y1.
CLIP_ARRAYS = ("crops", "canvas_side", "landmarks", "frame_index", "segment", "box")


def default_cache() -> Path:
    """The crop cache inside the analyzer's cache folder (``common.paths``): outside the repository."""
    return cache_dir() / "crops"


@dataclasses.dataclass(frozen=True)
class PrepareConfig:
    """How crops are sampled and cut (``config.json``); the checkpoint's spec must match the crop fields."""

    canvas_size: int = 256  # native-resolution canvas side (spec.canvas_size)
    input_size: int = 128  # RGB crop side the model reads (derived from each canvas; spec.input_size)
    crop_margin: float = 1.3  # spec.crop_margin
    segment_length: int = 16  # consecutive frames per segment (one temporal window)
    segments_per_video: int = 5  # segments spread evenly over each video
    detector_max_side: int = 640  # the live engine's default detection resolution
    detect_every: int = 5  # the live engine's default: detect every N frames, track in between
    # How boxes move between detections (faces.motion.PointTracker); a cache made with another
    # tracker ("dlib_correlation", before) has other boxes and is not reused.
    face_motion: str = "lk_points"

    @property
    def crop(self) -> CropSettings:
        return CropSettings(self.crop_margin, self.input_size, aligned=False, canvas_size=self.canvas_size)


@dataclasses.dataclass(frozen=True)
class ClipEntry:
    """One line of ``index.jsonl``: the media record a clip was cut from and what the extractor found in it.

    The fields are the JSON keys, in the order they are written. Entries also read as mappings by those
    names (``entry["clip_id"]``), the way the line-oriented scripts of ``training`` read them.
    """

    path: str  # the media file the clip was cut from
    label: str  # "real" or "fake"
    kind: str  # "video" or "image"
    method: str  # manipulation method, "none" for real media
    source: str  # where the file came from (repository or dataset)
    license: str
    group: str  # split unit: media sharing footage share a group
    identity: str  # person (or generator identity) shown, best effort
    clip_id: str  # file-system-safe id, the name of the clip's files under clips/
    crops: int  # crops (followed frames) cached
    segments: int  # segments of consecutive frames
    face_px: int  # median side of the face box in frame pixels
    descriptor: tuple[float, ...] | None  # mean 128-d face descriptor (None: none computed)

    @classmethod
    def of_record(
        cls,
        record: MediaRecord,
        clip_id: str,
        crops: int,
        segments: int,
        face_px: int,
        descriptor: Iterable[float] | None,
    ) -> ClipEntry:
        """The entry of a clip cut from ``record``."""
        fields = {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(record).items()}
        return cls(**fields, clip_id=clip_id, crops=crops, segments=segments, face_px=face_px, descriptor=descriptor)

    def __post_init__(self) -> None:
        if self.descriptor is not None and not isinstance(self.descriptor, tuple):
            object.__setattr__(self, "descriptor", tuple(self.descriptor))

    @property
    def is_fake(self) -> bool:
        return self.label == "fake"

    def __getitem__(self, key: str) -> Any:
        if key not in _FIELD_NAMES:
            raise KeyError(key)
        return getattr(self, key)

    def to_json(self) -> str:
        """The entry as one JSON line (without its newline), in the cache's key order."""
        fields = dataclasses.asdict(self)
        if self.descriptor is not None:
            fields["descriptor"] = list(self.descriptor)
        return json.dumps(fields)

    @classmethod
    def from_json(cls, line: str) -> ClipEntry:
        fields = json.loads(line)
        unknown = set(fields) - _FIELD_NAMES
        if unknown:
            raise ValueError(f"unknown crop cache entry fields: {', '.join(sorted(unknown))}")
        return cls(**fields)


_FIELD_NAMES = frozenset(field.name for field in dataclasses.fields(ClipEntry))


def clip_arrays_path(cache: Path, clip_id: str) -> Path:
    """Where the arrays of clip ``clip_id`` lie."""
    return cache / CLIPS_FOLDER / f"{clip_id}.npz"


def clip_entry_path(cache: Path, clip_id: str) -> Path:
    """Where the extractor leaves the entry of a finished clip beside its arrays."""
    return cache / CLIPS_FOLDER / f"{clip_id}.json"


def save_clip(cache: Path, clip_id: str, arrays: dict[str, np.ndarray]) -> None:
    """Stores one clip's arrays (compressed: canvases are large and mostly smooth)."""
    if set(arrays) != set(CLIP_ARRAYS):
        raise ValueError(f"a cached clip holds the arrays {', '.join(CLIP_ARRAYS)}; got {', '.join(sorted(arrays))}")
    path = clip_arrays_path(cache, clip_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def load_clip(cache: Path, entry: ClipEntry) -> dict[str, np.ndarray]:
    """The arrays of one cached clip, by name (:data:`CLIP_ARRAYS`)."""
    with np.load(clip_arrays_path(cache, entry.clip_id)) as data:
        return {key: data[key] for key in data.files}


def write_clip_entry(cache: Path, entry: ClipEntry) -> None:
    """Leaves a finished clip's entry beside its arrays."""
    clip_entry_path(cache, entry.clip_id).write_text(entry.to_json())


def read_clip_entries(cache: Path) -> list[ClipEntry]:
    """The entries left beside their clips (sorted by file name), those of a run cut short included."""
    return [ClipEntry.from_json(path.read_text()) for path in sorted((cache / CLIPS_FOLDER).glob("*.json"))]


def remove_clip_entries(cache: Path, keep: set[str]) -> None:
    """Removes the entries left beside clips, but those of the clip ids in ``keep``."""
    for path in (cache / CLIPS_FOLDER).glob("*.json"):
        if path.stem not in keep:
            path.unlink()


def write_index(cache: Path, entries: Iterable[ClipEntry]) -> None:
    """Writes ``index.jsonl``, one entry a line."""
    with open(cache / INDEX_NAME, "w") as handle:
        for entry in entries:
            handle.write(entry.to_json() + "\n")


def read_index(cache: Path) -> list[ClipEntry]:
    """The clip entries of a prepared cache."""
    with open(cache / INDEX_NAME) as handle:
        return [ClipEntry.from_json(line) for line in handle if line.strip()]


def has_index(cache: Path) -> bool:
    return (cache / INDEX_NAME).is_file()


def remove_index(cache: Path) -> None:
    (cache / INDEX_NAME).unlink(missing_ok=True)


def write_config(cache: Path, config: PrepareConfig) -> None:
    """Writes the ``config.json`` the crops are made with."""
    cache.mkdir(parents=True, exist_ok=True)
    (cache / CONFIG_NAME).write_text(json.dumps(dataclasses.asdict(config), indent=2))


def read_config(cache: Path) -> PrepareConfig:
    """The settings a cache was made with."""
    return PrepareConfig(**json.loads((cache / CONFIG_NAME).read_text()))


def has_config(cache: Path) -> bool:
    return (cache / CONFIG_NAME).is_file()
