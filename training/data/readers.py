"""Readers that turn dataset layouts into a flat list of labelled media records.

Every reader returns :class:`MediaRecord` objects; nothing downstream knows which layout a
clip came from. ``group`` is the unit a train/validation split must keep together (a real
clip and the fakes made from it), ``identity`` the person shown where the layout says so.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm"})
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
REAL, FAKE = "real", "fake"


@dataclass(frozen=True)
class MediaRecord:
    """One video or image with its label and the metadata that splits and reports need."""

    path: Path
    label: str  # "real" or "fake"
    kind: str  # "video" or "image"
    method: str  # manipulation method, "none" for real media
    source: str  # where the file came from (repository or dataset)
    license: str
    group: str  # split unit: media sharing footage share a group
    identity: str  # person (or generator identity) shown, best effort

    @property
    def is_fake(self) -> bool:
        return self.label == FAKE


def media_kind(path: Path) -> str | None:
    """ "video", "image", or None for files that are neither."""
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    return None


def _identity_from_manifest(file_name: str, method: str, group: str) -> str:
    stem = Path(file_name).stem
    dfm = re.search(r'DFM model "([^"]+)"', method)
    if dfm:
        return dfm.group(1)
    dfl = re.match(r"iperov__DeepFaceLive__(.+?)_\d+_(left|right)$", stem)
    if dfl:
        return dfl.group(1)
    talker = re.match(r"OpenTalker__SadTalker__(art_\d+|still)", stem)
    if talker:
        return f"sadtalker_{talker.group(1)}"
    return group or stem


MANIFESTS = ("manifest.csv", "manifest_extra.csv", "manifest_compact.csv")


def _note(notes: str, key: str) -> str | None:
    found = re.search(rf"\b{key}=([\w.-]+)", notes)
    return found.group(1) if found else None


def read_manifest(root: Path) -> list[MediaRecord]:
    """The project's ../shared/data layout: ``manifest.csv`` (and ``manifest_extra.csv`` when present), one
    row per file.

    ``group`` is the ``pair=`` note where present (a real clip and a fake sharing footage or identity),
    else the file stem. ``identity`` is the ``id=`` note (real people, names merged across sources),
    else the DFM model name of DeepFaceLive swaps, the source portrait of SadTalker clips, or the group.
    """
    records = []
    for name in MANIFESTS:
        if not (root / name).is_file():
            continue
        with open(root / name, newline="") as handle:
            for row in csv.DictReader(handle):
                notes = row.get("notes", "")
                stem = Path(row["file"]).stem
                group = _note(notes, "pair") or stem
                method = row["method"] if row["label"] == FAKE else "none"
                records.append(
                    MediaRecord(
                        path=root / row["file"],
                        label=row["label"],
                        kind=row["kind"],
                        method=method,
                        source=row["source_repo"],
                        license=row["license"],
                        group=group,
                        identity=_note(notes, "id") or _identity_from_manifest(row["file"], method, group),
                    )
                )
    return records


def read_faceforensics(root: Path, compression: str = "c23") -> list[MediaRecord]:
    """FaceForensics++: ``original_sequences/<src>/<comp>/videos/XXX.mp4`` and
    ``manipulated_sequences/<Method>/<comp>/videos/XXX_YYY.mp4`` (target XXX, source YYY).

    A manipulated clip is grouped with its target original XXX, so splits keep the pair together.
    """
    records = []
    for video in sorted((root / "original_sequences").glob(f"*/{compression}/videos/*.mp4")):
        source = video.parents[2].name
        records.append(
            MediaRecord(
                video,
                REAL,
                "video",
                "none",
                f"FaceForensics++/{source}",
                "FaceForensics++ terms of use",
                f"ffpp_{video.stem}",
                video.stem,
            )
        )
    for video in sorted((root / "manipulated_sequences").glob(f"*/{compression}/videos/*.mp4")):
        method = video.parents[2].name
        target = video.stem.split("_")[0]
        records.append(
            MediaRecord(
                video,
                FAKE,
                "video",
                method,
                "FaceForensics++",
                "FaceForensics++ terms of use",
                f"ffpp_{target}",
                target,
            )
        )
    return records


def read_celebdf(root: Path) -> list[MediaRecord]:
    """Celeb-DF (v1/v2): ``Celeb-real/idX_NNNN.mp4``, ``YouTube-real/NNNNN.mp4``,
    ``Celeb-synthesis/idX_idY_NNNN.mp4`` (real clip idX_NNNN with idY's face), grouped with idX_NNNN.

    ``List_of_testing_videos.txt`` (lines "<1 real|0 fake> <folder>/<file>") marks the official test
    split; its clips get ``source`` suffixed with ``/test`` so callers can keep them apart.
    """
    testing: set[str] = set()
    listing = root / "List_of_testing_videos.txt"
    if listing.is_file():
        testing = {line.split()[1] for line in listing.read_text().splitlines() if len(line.split()) == 2}
    records = []
    for folder, label in (("Celeb-real", REAL), ("YouTube-real", REAL), ("Celeb-synthesis", FAKE)):
        for video in sorted((root / folder).glob("*.mp4")):
            relative = f"{folder}/{video.name}"
            parts = video.stem.split("_")
            if folder == "Celeb-synthesis" and len(parts) == 3:
                group, identity = f"celebdf_{parts[0]}_{parts[2]}", parts[0]
            elif folder == "Celeb-real":
                group, identity = f"celebdf_{video.stem}", parts[0]
            else:
                group, identity = f"celebdf_yt_{video.stem}", f"yt_{video.stem}"
            source = "Celeb-DF" + ("/test" if relative in testing else "")
            method = "Celeb-DF face swap" if label == FAKE else "none"
            records.append(MediaRecord(video, label, "video", method, source, "Celeb-DF terms of use", group, identity))
    return records


def read_dfdc(root: Path) -> list[MediaRecord]:
    """DFDC: folders holding ``metadata.json`` mapping file name -> {label: REAL|FAKE, original}.

    Fakes are grouped with their ``original`` so a split keeps each real clip with its swaps.
    """
    records = []
    for metadata_path in sorted(root.rglob("metadata.json")):
        entries = json.loads(metadata_path.read_text())
        for name, entry in sorted(entries.items()):
            video = metadata_path.parent / name
            if not video.is_file():
                continue
            is_fake = str(entry.get("label", "")).upper() == "FAKE"
            original = entry.get("original") or name
            group = f"dfdc_{Path(original).stem}"
            records.append(
                MediaRecord(
                    video,
                    FAKE if is_fake else REAL,
                    "video",
                    "DFDC" if is_fake else "none",
                    "DFDC",
                    "DFDC terms of use",
                    group,
                    group,
                )
            )
    return records


def read_csv_listing(csv_path: Path) -> list[MediaRecord]:
    """A CSV with columns ``path,label`` (real/fake or 0/1) and optional ``method,source,group,identity``.

    Relative paths are resolved against the CSV's folder.
    """
    records = []
    with open(csv_path, newline="") as handle:
        for row in csv.DictReader(handle):
            path = Path(row["path"])
            path = path if path.is_absolute() else csv_path.parent / path
            kind = media_kind(path)
            if kind is None:
                continue
            label = _parse_label(row["label"])
            group = row.get("group") or path.stem
            records.append(
                MediaRecord(
                    path,
                    label,
                    kind,
                    row.get("method") or ("unknown" if label == FAKE else "none"),
                    row.get("source") or csv_path.stem,
                    row.get("license") or "unknown",
                    group,
                    row.get("identity") or group,
                )
            )
    return records


def read_label_folders(root: Path) -> list[MediaRecord]:
    """``root/real/**`` and ``root/fake/**`` (any nesting); each file is its own group."""
    records = []
    for label in (REAL, FAKE):
        for path in sorted((root / label).rglob("*")):
            kind = media_kind(path)
            if kind is None or not path.is_file():
                continue
            records.append(
                MediaRecord(
                    path,
                    label,
                    kind,
                    "unknown" if label == FAKE else "none",
                    root.name,
                    "unknown",
                    path.stem,
                    path.stem,
                )
            )
    return records


def _parse_label(value: str) -> str:
    text = value.strip().lower()
    if text in ("real", "0", "original", "pristine"):
        return REAL
    if text in ("fake", "1", "manipulated", "deepfake"):
        return FAKE
    raise ValueError(f"unknown label {value!r}")


READERS = {
    "manifest": read_manifest,
    "faceforensics": read_faceforensics,
    "celebdf": read_celebdf,
    "dfdc": read_dfdc,
    "csv": read_csv_listing,
    "folders": read_label_folders,
}
