"""Face-crop cache: extract crop sequences from videos and images, with 68-point landmarks.

Crops are made exactly as the live engine makes them (``FaceDetector`` + ``square_crop`` with
the same margin, optional eye alignment), so the model trains on what it will see. Each clip
becomes ``clips/<clip_id>.npz`` (crops, landmarks in crop pixels, frame indices, segment ids)
and one line in ``index.jsonl`` with the record's label, method, source, group and identity.

    python -m models.data.prepare --out ~/.cache/deepfake-analyzer/crops
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import sys
import warnings
from collections.abc import Iterator
from multiprocessing import Pool
from pathlib import Path

import av
import numpy as np

from models.data.readers import READERS, MediaRecord

DEFAULT_CACHE = Path.home() / ".cache" / "deepfake-analyzer" / "crops"
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
INDEX_NAME = "index.jsonl"


@dataclasses.dataclass(frozen=True)
class PrepareConfig:
    """How crops are sampled and stored."""

    crop_size: int = 192  # stored crop side in pixels; training resizes down from it
    crop_margin: float = 1.3  # must equal the checkpoint's spec.crop_margin
    aligned: bool = False  # must equal the checkpoint's spec.aligned
    segment_length: int = 16  # consecutive frames per segment (one temporal window)
    segments_per_video: int = 6  # segments spread evenly over each video
    detector_max_side: int = 640  # the live engine's default detection resolution


class CropExtractor:
    """Detector, landmark model and cropping for one process."""

    def __init__(self, config: PrepareConfig) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            import dlib
            import face_recognition_models

            from realtime.faces.detector import FaceDetector

        self.config = config
        self.detector = FaceDetector(model="hog", max_side=config.detector_max_side)
        self.predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
        self._dlib = dlib

    def crop(self, frame_rgb: np.ndarray, previous: object | None) -> tuple[np.ndarray, np.ndarray, object] | None:
        """Largest face's crop and 68 landmarks in crop pixels, plus the face used.

        Falls back to ``previous`` (the last face of the same segment) when detection misses,
        as the live engine's tracker would keep the track between detections.
        """
        from realtime.faces.crops import eye_angle_deg, square_crop

        faces = self.detector.detect(frame_rgb)
        face = faces[0] if faces else previous
        if face is None:
            return None
        size = self.config.crop_size
        angle = eye_angle_deg(face.landmarks) if self.config.aligned else 0.0
        crop = square_crop(frame_rgb, face.box, self.config.crop_margin, size, angle)
        # The detector box lands centred in the crop, scaled by size / (longer side * margin).
        scale = size / max(max(face.box.width, face.box.height) * self.config.crop_margin, 1.0)
        half_w, half_h = face.box.width * scale / 2, face.box.height * scale / 2
        rect = self._dlib.rectangle(
            round(size / 2 - half_w), round(size / 2 - half_h), round(size / 2 + half_w), round(size / 2 + half_h)
        )
        shape = self.predictor(np.ascontiguousarray(crop), rect)
        landmarks = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        return crop, landmarks, face


def sampled_frame_indices(frame_count: int, segment_length: int, segments: int) -> list[list[int]]:
    """``segments`` runs of ``segment_length`` consecutive indices spread evenly over the video."""
    if frame_count <= 0:
        return []
    length = min(segment_length, frame_count)
    count = max(1, min(segments, frame_count // length))
    starts = np.linspace(0, frame_count - length, count).round().astype(int)
    return [list(range(start, start + length)) for start in sorted(set(starts.tolist()))]


def decode_frames(path: Path, wanted: set[int]) -> Iterator[tuple[int, np.ndarray]]:
    """RGB frames of a video at the wanted indices, in order."""
    last = max(wanted)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if index in wanted:
                yield index, frame.to_ndarray(format="rgb24")
            if index >= last:
                break


def video_frame_count(path: Path) -> int:
    """Frames in a video: the container's count, or a decode count when it is missing."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
        return sum(1 for _ in container.decode(stream))


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


def extract_clip(extractor: CropExtractor, record: MediaRecord) -> dict[str, np.ndarray] | None:
    """Crops, landmarks, frame indices and segment ids of one record; None if no face was found."""
    config = extractor.config
    crops, landmarks, frame_indices, segment_ids = [], [], [], []
    if record.kind == "image":
        frames: Iterator[tuple[int, np.ndarray]] = iter([(0, read_image(record.path))])
        segment_of = {0: 0}
    else:
        segments = sampled_frame_indices(
            video_frame_count(record.path), config.segment_length, config.segments_per_video
        )
        segment_of = {index: number for number, run in enumerate(segments) for index in run}
        frames = decode_frames(record.path, set(segment_of)) if segment_of else iter([])
    previous, previous_segment = None, -1
    for index, frame in frames:
        segment = segment_of[index]
        result = extractor.crop(frame, previous if segment == previous_segment else None)
        if result is None:
            continue
        crop, points, previous = result
        previous_segment = segment
        crops.append(crop)
        landmarks.append(points)
        frame_indices.append(index)
        segment_ids.append(segment)
    if not crops:
        return None
    return {
        "crops": np.stack(crops),
        "landmarks": np.stack(landmarks),
        "frame_index": np.array(frame_indices, dtype=np.int32),
        "segment": np.array(segment_ids, dtype=np.int32),
    }


_WORKER: CropExtractor | None = None


def _init_worker(config: PrepareConfig) -> None:
    import cv2

    global _WORKER
    cv2.setNumThreads(1)
    _WORKER = CropExtractor(config)


def _process(task: tuple[MediaRecord, Path]) -> dict | None:
    record, out = task
    assert _WORKER is not None
    name = clip_id(record)
    try:
        arrays = extract_clip(_WORKER, record)
    except (OSError, av.error.FFmpegError, ValueError) as exc:
        print(f"skip {record.path}: {exc}", file=sys.stderr)
        return None
    if arrays is None:
        print(f"skip {record.path}: no face found", file=sys.stderr)
        return None
    save_clip(out, name, arrays)
    entry = {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(record).items()}
    entry.update(clip_id=name, crops=len(arrays["crops"]), segments=int(arrays["segment"].max() + 1))
    return entry


def prepare_cache(records: list[MediaRecord], out: Path, config: PrepareConfig, workers: int = 2) -> list[dict]:
    """Extracts every record into ``out``; writes ``index.jsonl`` and ``config.json``; returns the index."""
    (out / "clips").mkdir(parents=True, exist_ok=True)
    tasks = [(record, out) for record in records]
    with Pool(workers, initializer=_init_worker, initargs=(config,)) as pool:
        entries = [entry for entry in pool.imap(_process, tasks) if entry is not None]
    write_index(out, entries, config)
    return entries


def save_clip(cache: Path, name: str, arrays: dict[str, np.ndarray]) -> None:
    """Stores one clip's crops, landmarks, frame indices and segment ids."""
    (cache / "clips").mkdir(parents=True, exist_ok=True)
    np.savez(cache / "clips" / f"{name}.npz", **arrays)


def write_index(cache: Path, entries: list[dict], config: PrepareConfig) -> None:
    """Writes ``index.jsonl`` (one clip entry a line) and the ``config.json`` the crops were made with."""
    with open(cache / INDEX_NAME, "w") as handle:
        for entry in entries:
            handle.write(json.dumps(entry) + "\n")
    (cache / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2))


def read_index(cache: Path) -> list[dict]:
    """The clip entries of a prepared cache."""
    with open(cache / INDEX_NAME) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_clip(cache: Path, entry: dict) -> dict[str, np.ndarray]:
    """The arrays of one cached clip."""
    with np.load(cache / "clips" / f"{entry['clip_id']}.npz") as data:
        return {key: data[key] for key in data.files}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_CACHE, help="cache folder (outside the repository)")
    parser.add_argument("--root", type=Path, default=DEFAULT_DATA, help="dataset root (default ../shared/data)")
    parser.add_argument("--format", choices=sorted(READERS), default="manifest", help="dataset layout of --root")
    parser.add_argument("--crop-size", type=int, default=PrepareConfig.crop_size)
    parser.add_argument("--crop-margin", type=float, default=PrepareConfig.crop_margin)
    parser.add_argument("--aligned", action="store_true", help="rotate crops upright (must match the model spec)")
    parser.add_argument("--segment-length", type=int, default=PrepareConfig.segment_length)
    parser.add_argument("--segments-per-video", type=int, default=PrepareConfig.segments_per_video)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--limit", type=int, default=0, help="only the first N records (smoke tests)")
    args = parser.parse_args(argv)
    records = READERS[args.format](args.root)
    if args.limit:
        records = records[: args.limit]
    config = PrepareConfig(args.crop_size, args.crop_margin, args.aligned, args.segment_length, args.segments_per_video)
    entries = prepare_cache(records, args.out.expanduser(), config, args.workers)
    print(
        json.dumps(
            {
                "records": len(records),
                "clips": len(entries),
                "crops": sum(e["crops"] for e in entries),
                "out": str(args.out),
            }
        )
    )


if __name__ == "__main__":
    main()
