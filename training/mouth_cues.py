"""Hand-made mouth cues of the cached clips, read against all real clips and against each fake's own real twin.

``../shared/DETECTOR.md`` lists two lip-sync cues measured on whole clips: the mouth changes more from frame to
frame than the rest of the face, and lip-sync fakes are blurrier. A cue that separates lip-sync fakes from real
clips in general may still read the footage (people talking, blurry interviews) rather than the edit. The twins
tell the two apart: a fake and its own real source clip share the footage, so only the edit can move a cue
between them. This command measures, per video clip of the crop cache (no model, no fitting):

- ``mouth_motion``: log of the mean absolute frame-to-frame change inside the mouth's box over that inside the
  nose's box (consecutive frames of one segment, median per segment, mean over segments);
- ``mouth_detail``: log of the mean absolute Laplacian inside the mouth's box over that inside the nose's box
  (median over the clip's crops): a mouth rendered at a lower resolution than the face has less;
- ``mouth_sharpness``: log of the mouth's mean absolute Laplacian alone (the cue of "lip-sync fakes are
  blurrier", footage included).

Boxes come from each crop's 68 landmarks, on the native canvas. It prints JSON: per family the video AUC of
each cue against every real clip of the cache (both directions count: 0.5 is no signal), per family with
twins how many fakes lie above their twin and by how much, and whether the edit is in the pixels at all: on the
frames a fake and its twin share (same frame number, face boxes within :data:`ALIGNED_PX`), the mean absolute
grey-level difference between the two inside the mouth's box and inside the nose's (``edit_in_pixels``).

    python -m training.mouth_cues [--crops CACHE] [--out out/mouth_cues.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from training.data.crop_cache import ClipEntry, default_cache, load_clip, read_index
from training.data.splits import REAL_FAMILY, assign_splits, manipulation_family
from training.head_eval import auc_row

CUES = ("mouth_motion", "mouth_detail", "mouth_sharpness")
MOUTH = slice(48, 68)  # lips, outer and inner (68-point layout)
NOSE = slice(27, 36)  # bridge and tip: moves with the head, never with speech
# Added to region means before a ratio: keeps a still, flat region from dividing by zero (grey levels 0-255).
FLOOR = 0.5
# Frames of a fake and its twin count as the same view when their face boxes differ by at most this (frame px).
ALIGNED_PX = 4


def region_box(points: np.ndarray, size: int, grow: float = 0.1) -> tuple[int, int, int, int]:
    """The landmarks' bounding box grown by ``grow`` of its size on each side, clipped to a ``size`` canvas."""
    low, high = points.min(axis=0), points.max(axis=0)
    margin = (high - low) * grow
    x0, y0 = np.clip(np.floor(low - margin), 0, size).astype(int)
    x1, y1 = np.clip(np.ceil(high + margin), 0, size).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def region_mean(image: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Mean of ``image`` inside ``box``; NaN where the box is under 2 pixels on a side."""
    x0, y0, x1, y1 = box
    if x1 - x0 < 2 or y1 - y0 < 2:
        return float("nan")
    return float(image[y0:y1, x0:x1].mean())


def clip_cues(canvases: np.ndarray, landmarks: np.ndarray, segments: np.ndarray) -> dict[str, float]:
    """The three cues of one clip from its (N, C, C, 3) RGB canvases, (N, 68, 2) landmarks and (N,) segment ids.

    ``mouth_motion`` is NaN when no segment has two frames (a still)."""
    size = canvases.shape[1]
    grays = [cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY).astype(np.float32) for canvas in canvases]
    mouth_boxes = [region_box(points[MOUTH], size) for points in landmarks]
    nose_boxes = [region_box(points[NOSE], size) for points in landmarks]
    detail, sharpness = [], []
    for gray, mouth, nose in zip(grays, mouth_boxes, nose_boxes, strict=True):
        laplacian = np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=1))
        mouth_energy, nose_energy = region_mean(laplacian, mouth), region_mean(laplacian, nose)
        detail.append(np.log((mouth_energy + FLOOR) / (nose_energy + FLOOR)))
        sharpness.append(np.log(mouth_energy + FLOOR))
    motion = []
    for segment in np.unique(segments):
        positions = np.flatnonzero(segments == segment)
        ratios = []
        for before, after in itertools.pairwise(positions):
            change = np.abs(grays[after] - grays[before])
            mouth_change = region_mean(change, mouth_boxes[before])
            nose_change = region_mean(change, nose_boxes[before])
            ratios.append(np.log((mouth_change + FLOOR) / (nose_change + FLOOR)))
        if ratios and not np.all(np.isnan(ratios)):
            motion.append(float(np.nanmedian(ratios)))
    return {
        "mouth_motion": float(np.mean(motion)) if motion else float("nan"),
        "mouth_detail": float(np.nanmedian(detail)),
        "mouth_sharpness": float(np.nanmedian(sharpness)),
    }


def family_aucs(rows: Sequence[dict], cue: str) -> dict[str, dict]:
    """Per fake family: its fakes' video AUC on ``cue`` against every real clip (higher cue = fake)."""
    reals = [row[cue] for row in rows if row["family"] == REAL_FAMILY and np.isfinite(row[cue])]
    by_family: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row["family"] != REAL_FAMILY and np.isfinite(row[cue]):
            by_family[row["family"]].append(row[cue])
    return {family: auc_row(fakes, reals) for family, fakes in sorted(by_family.items())}


def twin_differences(rows: Sequence[dict], cue: str) -> dict[str, dict]:
    """Per fake family: each fake with real clips in its footage group, its cue minus the mean of theirs."""
    reals_of: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row["family"] == REAL_FAMILY and np.isfinite(row[cue]):
            reals_of[row["group"]].append(row[cue])
    by_family: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        twins = reals_of.get(row["group"])
        if row["family"] != REAL_FAMILY and twins and np.isfinite(row[cue]):
            difference = row[cue] - statistics.fmean(twins)
            by_family[row["family"]].append({"clip": row["clip"], "method": row["method"], "difference": difference})
    table = {}
    for family, pairs in sorted(by_family.items()):
        differences = [pair["difference"] for pair in pairs]
        table[family] = {
            "pairs": len(pairs),
            "above_twin": sum(difference > 0 for difference in differences),
            "mean_difference": round(statistics.fmean(differences), 3),
            "differences": [round(difference, 3) for difference in differences],
        }
    return table


def twin_pixel_difference(fake: dict[str, np.ndarray], twin: dict[str, np.ndarray]) -> dict[str, float] | None:
    """Mean absolute grey difference between a fake's and its twin's canvases inside the mouth's and the nose's
    boxes (the fake's landmarks), over their shared, aligned frames; None when they share none."""
    mouth, nose = [], []
    for position, frame in enumerate(fake["frame_index"]):
        matches = np.flatnonzero(twin["frame_index"] == frame)
        if len(matches) == 0 or np.abs(fake["box"][position] - twin["box"][matches[0]]).max() > ALIGNED_PX:
            continue
        gray_fake = cv2.cvtColor(fake["crops"][position], cv2.COLOR_RGB2GRAY).astype(np.float32)
        gray_twin = cv2.cvtColor(twin["crops"][matches[0]], cv2.COLOR_RGB2GRAY).astype(np.float32)
        difference = np.abs(gray_fake - gray_twin)
        points, size = fake["landmarks"][position], difference.shape[0]
        mouth.append(region_mean(difference, region_box(points[MOUTH], size)))
        nose.append(region_mean(difference, region_box(points[NOSE], size)))
    if not mouth:
        return None
    return {"frames": len(mouth), "mouth": float(np.nanmean(mouth)), "nose": float(np.nanmean(nose))}


def edit_in_pixels(cache: Path, entries: Sequence[ClipEntry]) -> dict[str, dict[str, float | int]]:
    """Per fake family: how many fakes share aligned frames with a real twin, and the mean grey difference from
    the twin inside the mouth's and the nose's boxes (the nose's is what codec and tracking alone leave)."""
    twins: dict[str, list[ClipEntry]] = defaultdict(list)
    for entry in entries:
        if entry.label == "real" and entry.kind == "video":
            twins[entry.group].append(entry)
    by_family: dict[str, list[dict[str, float]]] = defaultdict(list)
    for entry in entries:
        if entry.label != "fake" or entry.kind != "video" or not twins[entry.group]:
            continue
        difference = twin_pixel_difference(load_clip(cache, entry), load_clip(cache, twins[entry.group][0]))
        if difference is not None:
            by_family[manipulation_family(entry.method)].append(difference)
    return {
        family: {
            "pairs": len(rows),
            "frames": int(sum(row["frames"] for row in rows)),
            "mouth": round(statistics.fmean(row["mouth"] for row in rows), 2),
            "nose": round(statistics.fmean(row["nose"] for row in rows), 2),
        }
        for family, rows in sorted(by_family.items())
    }


def measure(cache: Path, entries: Sequence[ClipEntry] | None = None) -> list[dict]:
    """One row per video clip of the cache: its labels, split, footage group and the three cues."""
    entries = list(entries if entries is not None else read_index(cache))
    splits = assign_splits(entries)
    rows = []
    for entry in entries:
        if entry.kind != "video":
            continue
        arrays = load_clip(cache, entry)
        cues = clip_cues(arrays["crops"], arrays["landmarks"], arrays["segment"])
        family = manipulation_family(entry.method) if entry.label == "fake" else REAL_FAMILY
        rows.append(
            {"clip": entry.clip_id, "method": entry.method, "family": family, "group": entry.group}
            | {"split": splits[entry.clip_id]}
            | cues
        )
    return rows


def report(rows: Sequence[dict], pixels: dict[str, dict[str, float | int]] | None = None) -> dict:
    """The JSON report: per cue, the families against all reals and against their own twins; ``pixels`` is
    :func:`edit_in_pixels`'s table."""
    return {
        "videos": len(rows),
        "reals": sum(row["family"] == REAL_FAMILY for row in rows),
        "edit_in_pixels": pixels or {},
        "cues": {
            cue: {"against_reals": family_aucs(rows, cue), "against_twins": twin_differences(rows, cue)} for cue in CUES
        },
    }


def main(argv: list[str] | None = None) -> None:
    """Measures the mouth cues of every cached video clip and prints the report as JSON."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--crops", type=Path, default=default_cache(), help="crop cache from training.data.prepare")
    parser.add_argument("--out", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    cache = args.crops.expanduser()
    entries = read_index(cache)
    text = json.dumps(report(measure(cache, entries), edit_in_pixels(cache, entries)), indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
