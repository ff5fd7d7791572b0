"""Face-crop cache: the live engine's face follower over sampled segments of every clip, with 68 landmarks.

Each segment of consecutive frames is decoded upright (display rotation applied, as the engine's
file source does) and run through a fresh :class:`faces.follower.FaceFollower` with the engine's
detector, tracker, detection rate and crop settings, so a cached canvas is the canvas the engine
cuts of the same frame when a stream starts there. The largest face of the segment's first frame
is followed. Each clip becomes ``clips/<clip_id>.npz`` (native canvases, the margin crop's side in
each, 68 landmarks in canvas pixels, frame numbers, segment ids, frame boxes) and one line of
``index.jsonl`` with the record's label, method, source, group, identity and a 128-d face descriptor
(to find one person under two names before splitting); the format is :mod:`training.data.crop_cache`'s.

    python -m training.data.prepare --out ~/.cache/deepfake-analyzer/crops
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from multiprocessing import get_context
from pathlib import Path

import av
import numpy as np

from common.decode import upright_frames
from faces.crops import canvas_placement
from faces.detector import FaceDetector
from faces.follower import FaceFollower, FollowedFace
from faces.geometry import Box
from faces.landmarks import FaceLandmarks
from training.data.crop_cache import (
    ClipEntry,
    PrepareConfig,
    clip_arrays_path,
    default_cache,
    has_config,
    has_index,
    read_clip_entries,
    read_config,
    read_index,
    remove_clip_entries,
    remove_index,
    save_clip,
    write_clip_entry,
    write_config,
    write_index,
)
from training.data.readers import READERS, MediaRecord

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DESCRIPTOR_FRAMES = 3  # frames per clip whose descriptors are averaged


@dataclasses.dataclass(frozen=True)
class CachedFace:
    """One frame's face as the cache stores it."""

    frame_index: int
    segment: int
    face: FollowedFace
    landmarks: np.ndarray  # (68, 2) canvas pixels


class CropExtractor:
    """Detector, follower settings, landmark and descriptor models for one process."""

    def __init__(self, config: PrepareConfig) -> None:
        self.config = config
        self.detector = FaceDetector(model="hog", max_side=config.detector_max_side, landmarks=False)
        self.landmarks = FaceLandmarks(descriptors=True)

    def follow(self, frames: Iterable[tuple[int, np.ndarray]], segment: int, still: bool) -> list[CachedFace]:
        """The largest first face of a run of consecutive frames, followed as the engine follows it."""
        config = self.config
        follower = FaceFollower(
            self.detector,
            config.crop,
            detect_every=1 if still else config.detect_every,
            track_motion=not still,
        )
        chosen: int | None = None
        found = []
        for index, image in frames:
            update = follower.process(image, index=index)
            if chosen is None and update.faces:
                chosen = max(update.faces, key=lambda face: face.box.area).track_id
            if chosen in update.ended:
                break  # the face left (or was lost): what follows is another face or none
            face = next((f for f in update.faces if f.track_id == chosen), None)
            if face is not None:
                found.append(CachedFace(index, segment, face, self._canvas_landmarks(image, face)))
        return found

    def _canvas_landmarks(self, image: np.ndarray, face: FollowedFace) -> np.ndarray:
        images = face.images
        assert images.canvas is not None  # the cache's crop settings always ask for a canvas
        return self.landmarks.points(images.canvas, self.canvas_box(face))

    def canvas_box(self, face: FollowedFace) -> Box:
        """The face's box in its canvas's pixels."""
        placement = canvas_placement(face.box, self.config.crop_margin, self.config.canvas_size)
        return placement.box_to_canvas(face.box)

    def descriptor(self, faces: list[CachedFace]) -> list[float] | None:
        """Mean 128-d descriptor of a few frames of the clip's face (None without faces)."""
        if not faces:
            return None
        picks = [faces[i] for i in np.linspace(0, len(faces) - 1, min(DESCRIPTOR_FRAMES, len(faces))).astype(int)]
        vectors = [self.landmarks.descriptor(p.face.images.canvas, self.canvas_box(p.face)) for p in picks]
        return [round(float(v), 5) for v in np.mean(vectors, axis=0)]


def sampled_frame_indices(frame_count: int, segment_length: int, segments: int) -> list[list[int]]:
    """``segments`` runs of ``segment_length`` consecutive indices spread evenly over the video."""
    if frame_count <= 0:
        return []
    length = min(segment_length, frame_count)
    count = max(1, min(segments, frame_count // length))
    starts = np.linspace(0, frame_count - length, count).round().astype(int)
    return [list(range(start, start + length)) for start in sorted(set(starts.tolist()))]


def video_frame_count(path: Path) -> int:
    """Frames in a video: the container's count, or a decode count when it is missing."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
    return sum(1 for _ in upright_frames(path))


def read_image(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"cannot read image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def clip_id(record: MediaRecord) -> str:
    """A file-system-safe id, stable for a given path."""
    digest = hashlib.sha1(str(record.path).encode()).hexdigest()[:8]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", record.path.stem)[:80] + "_" + digest


def _segments(record: MediaRecord, config: PrepareConfig) -> Iterator[tuple[int, list[tuple[int, np.ndarray]]]]:
    """(segment number, its frames) of a record: one frame for an image."""
    if record.kind == "image":
        yield 0, [(0, read_image(record.path))]
        return
    runs = sampled_frame_indices(video_frame_count(record.path), config.segment_length, config.segments_per_video)
    segment_of = {index: number for number, run in enumerate(runs) for index in run}
    if not segment_of:
        return
    current, frames = 0, []
    for index, image in upright_frames(record.path, set(segment_of)):
        if segment_of[index] != current and frames:
            yield current, frames
            frames = []
        current = segment_of[index]
        frames.append((index, image))
    if frames:
        yield current, frames


def extract_clip(extractor: CropExtractor, record: MediaRecord) -> tuple[dict[str, np.ndarray], list[float]] | None:
    """The cached arrays of one record and its face descriptor; None if no face was found."""
    faces: list[CachedFace] = []
    for segment, frames in _segments(record, extractor.config):
        faces.extend(extractor.follow(frames, segment, still=record.kind == "image"))
    if not faces:
        return None
    arrays = {
        "crops": np.stack([f.face.images.canvas for f in faces]),
        "canvas_side": np.array([f.face.images.canvas_side for f in faces], dtype=np.float32),
        "landmarks": np.stack([f.landmarks for f in faces]),
        "frame_index": np.array([f.frame_index for f in faces], dtype=np.int32),
        "segment": np.array([f.segment for f in faces], dtype=np.int32),
        "box": np.array([f.face.box.as_ints() for f in faces], dtype=np.int32),
    }
    return arrays, extractor.descriptor(faces)


_WORKER: CropExtractor | None = None


def _init_worker(config: PrepareConfig) -> None:
    import cv2

    global _WORKER
    cv2.setNumThreads(1)
    _WORKER = CropExtractor(config)


def _process(task: tuple[MediaRecord, Path]) -> ClipEntry | None:
    record, out = task
    assert _WORKER is not None
    name = clip_id(record)
    try:
        extracted = extract_clip(_WORKER, record)
    except (OSError, av.error.FFmpegError, ValueError) as exc:
        print(f"skip {record.path}: {exc}", file=sys.stderr)
        return None
    if extracted is None:
        print(f"skip {record.path}: no face found", file=sys.stderr)
        return None
    arrays, descriptor = extracted
    sides = arrays["box"][:, 2:] - arrays["box"][:, :2]
    entry = ClipEntry.of_record(
        record,
        clip_id=name,
        crops=len(arrays["crops"]),
        segments=int(arrays["segment"].max() + 1),
        face_px=int(np.median(sides.max(axis=1))),
        descriptor=descriptor,
    )
    save_clip(out, name, arrays)
    # The entry beside the clip, written last: an interrupted run resumes from what it finished.
    write_clip_entry(out, entry)
    return entry


def reusable_entries(out: Path, config: PrepareConfig) -> dict[str, ClipEntry]:
    """Entries of an earlier run into ``out`` with the same settings whose clip files are there, by clip id:
    those of its index, and those an interrupted run left beside its clips."""
    if not has_config(out) or read_config(out) != config:
        return {}
    entries = read_index(out) if has_index(out) else []
    entries += read_clip_entries(out)
    return {e.clip_id: e for e in entries if clip_arrays_path(out, e.clip_id).is_file()}


def prepare_cache(
    records: list[MediaRecord], out: Path, config: PrepareConfig, workers: int = 2, reuse: bool = True
) -> list[ClipEntry]:
    """Extracts every record into ``out`` (keeping clips an earlier run with the same settings made);
    writes ``index.jsonl`` and ``config.json``; returns the index."""
    done = reusable_entries(out, config) if reuse else {}
    if not done:
        remove_index(out)
    remove_clip_entries(out, keep=set(done))  # the others were made with other settings, or are to be made again
    # The settings first, so that the clips of a run cut short are known to have been made with them.
    write_config(out, config)
    tasks = [(record, out) for record in records if clip_id(record) not in done]
    if workers <= 1:
        _init_worker(config)
        fresh = {entry.clip_id: entry for entry in map(_process, tasks) if entry is not None}
    else:
        # Spawned, not forked: a fork of a process that already runs threads (dlib, OpenMP) can deadlock.
        with get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(config,)) as pool:
            fresh = {entry.clip_id: entry for entry in pool.imap(_process, tasks) if entry is not None}
    entries = [done.get(clip_id(r)) or fresh[clip_id(r)] for r in records if clip_id(r) in done or clip_id(r) in fresh]
    write_index(out, entries)
    return entries


def main(argv: list[str] | None = None) -> None:
    defaults = PrepareConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=default_cache(), help="cache folder (outside the repository)")
    parser.add_argument("--root", type=Path, default=DEFAULT_DATA, help="dataset root (default ../shared/data)")
    parser.add_argument("--format", choices=sorted(READERS), default="manifest", help="dataset layout of --root")
    for field in dataclasses.fields(PrepareConfig):
        value = getattr(defaults, field.name)
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--limit", type=int, default=0, help="only the first N records (smoke tests)")
    parser.add_argument("--no-reuse", dest="reuse", action="store_false", help="extract every clip again")
    args = parser.parse_args(argv)
    records = READERS[args.format](args.root)
    if args.limit:
        records = records[: args.limit]
    config = PrepareConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(PrepareConfig)})
    entries = prepare_cache(records, args.out.expanduser(), config, args.workers, args.reuse)
    summary = {"records": len(records), "clips": len(entries), "crops": sum(e.crops for e in entries)}
    print(json.dumps({**summary, "out": str(args.out)}))


if __name__ == "__main__":
    main()
