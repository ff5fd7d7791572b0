"""Contact sheets of the synthesis families, to check by eye that each fake looks like its claim.

Takes a few windows of consecutive real crops from different clips of a crop cache, applies a
family (:mod:`training.data.families`) and writes a PNG grid: per window a row of real frames, a row
of fake frames, a row of masks (grey) and, with ``--diff``, a row of amplified ``|fake - real|``.
With ``--degrade`` one random degradation history (:mod:`training.data.degrade`) is applied to both
the real and the fake window of each row pair, as training does. Windows, donors and synthesis are
deterministic given ``--seed``; every family sees the same windows.

Command::

    python -m training.data.contact_sheet --family NAME --cache DIR --out PNG [--windows 4] [--frames 4]
        [--length T] [--seed 0] [--autoencoders DIR] [--degrade] [--diff]
    python -m training.data.contact_sheet --family all --cache DIR --out-dir DIR [...]

``--length`` is the window length given to the family (default ``--frames``); ``--frames`` evenly
spaced frames of it are shown. ``all`` skips the autoencoder families unless ``--autoencoders``
names a trained bank.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from training.data.crop_cache import load_clip, read_index
from training.data.degrade import degrade_window, sample_degradation
from training.data.families import FAMILIES, Family, SynthesisContext

HEADER = 28  # height of the title strip, pixels
DIFF_GAIN = 4.0  # |fake - real| is multiplied by this in the difference row
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class RealWindow:
    """Consecutive real crops of one clip."""

    clip_id: str
    start: int  # index of the first crop in the clip
    crops: np.ndarray  # (T, S, S, 3) uint8 RGB
    landmarks: np.ndarray  # (T, 68, 2) float32


def segment_starts(segment: np.ndarray, length: int) -> list[int]:
    """Indices at which ``length`` consecutive crops of one segment begin."""
    starts = []
    for index in range(len(segment) - length + 1):
        if np.all(segment[index : index + length] == segment[index]):
            starts.append(index)
    return starts


def real_windows(cache: Path, count: int, length: int, rng: np.random.Generator) -> list[RealWindow]:
    """Up to ``count`` windows of ``length`` crops, each from a different real clip, chosen by ``rng``."""
    entries = [entry for entry in read_index(cache) if entry.label == "real"]
    windows: list[RealWindow] = []
    for position in rng.permutation(len(entries)):
        if len(windows) == count:
            break
        arrays = load_clip(cache, entries[position])
        starts = segment_starts(arrays["segment"], length)
        if not starts:
            continue
        start = int(starts[rng.integers(len(starts))])
        crops = arrays["crops"][start : start + length]
        landmarks = arrays["landmarks"][start : start + length].astype(np.float32)
        windows.append(RealWindow(entries[position].clip_id, start, crops, landmarks))
    return windows


def shown_frames(length: int, frames: int) -> np.ndarray:
    """``frames`` evenly spaced indices into a window of ``length`` (all of them if it is shorter)."""
    return np.unique(np.linspace(0, length - 1, min(frames, length)).round().astype(int))


def _labelled(image: np.ndarray, text: str) -> np.ndarray:
    """A copy of ``image`` with ``text`` in its top-left corner, light on a dark outline."""
    cell = np.ascontiguousarray(image).copy()
    scale = max(cell.shape[1] / 400.0, 0.35)
    origin = (4, int(16 * scale / 0.4))
    cv2.putText(cell, text, origin, FONT, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(cell, text, origin, FONT, scale, (255, 255, 160), 1, cv2.LINE_AA)
    return cell


def window_rows(
    window_index: int, real: np.ndarray, fake: np.ndarray, mask: np.ndarray, frames: np.ndarray, diff: bool
) -> list[np.ndarray]:
    """The labelled rows of one window: real, fake, mask and optionally the amplified difference."""
    grey = np.repeat(np.rint(mask * 255.0).astype(np.uint8)[..., None], 3, axis=-1)
    kinds = [("real", real), ("fake", fake), ("mask", grey)]
    if diff:
        difference = np.abs(fake.astype(np.float32) - real.astype(np.float32)) * DIFF_GAIN
        kinds.append((f"|diff|x{DIFF_GAIN:g}", np.clip(difference, 0, 255).astype(np.uint8)))
    return [
        np.concatenate([_labelled(images[t], f"{kind} w{window_index} f{t}") for t in frames], axis=1)
        for kind, images in kinds
    ]


def _header(width: int, text: str) -> np.ndarray:
    strip = np.zeros((HEADER, width, 3), dtype=np.uint8)
    cv2.putText(strip, text, (6, HEADER - 9), FONT, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return strip


def contact_sheet(
    family: Family,
    windows: list[RealWindow],
    *,
    count: int,
    frames: int,
    seed: int,
    bank: object | None = None,
    degrade: bool = False,
    diff: bool = False,
) -> np.ndarray:
    """The RGB grid for the first ``count`` windows; window ``i`` takes window ``i + 1`` as swap donor."""
    rows = []
    for index, window in enumerate(windows[:count]):
        rng = np.random.default_rng([seed, index])
        donor = windows[(index + 1) % len(windows)]
        context = SynthesisContext(donor=(donor.crops, donor.landmarks), autoencoders=bank)
        fake, mask = family.make(window.crops, window.landmarks, rng, context)
        real = window.crops
        if degrade:
            params = sample_degradation(rng)
            real, fake = degrade_window(real, params), degrade_window(fake, params)
        rows.extend(window_rows(index, real, fake, mask, shown_frames(len(real), frames), diff))
    grid = np.concatenate(rows, axis=0)
    title = f"{family.name}{' (degraded)' if degrade else ''}: {family.description}"
    return np.concatenate([_header(grid.shape[1], title), grid], axis=0)


def write_png(path: Path, image: np.ndarray) -> None:
    """Writes an RGB image as PNG, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")


def _load_bank(folder: Path | None) -> object | None:
    if folder is None:
        return None
    from training.data.autoencoders import AutoencoderBank  # imports torch, so only when asked for

    return AutoencoderBank.load(folder)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", required=True, choices=[*FAMILIES, "all"], help="family name, or all")
    parser.add_argument("--cache", type=Path, required=True, help="crop cache folder (index.jsonl, clips/)")
    parser.add_argument("--out", type=Path, help="PNG to write (one family)")
    parser.add_argument("--out-dir", type=Path, help="folder for one <family>.png each (--family all)")
    parser.add_argument("--windows", type=int, default=4, help="windows (rows of real, fake, mask) to show")
    parser.add_argument("--frames", type=int, default=4, help="frames shown per window")
    parser.add_argument("--length", type=int, help="window length given to the family (default --frames)")
    parser.add_argument("--seed", type=int, default=0, help="seed of window choice and synthesis")
    parser.add_argument("--autoencoders", type=Path, help="trained autoencoder bank for the rerender families")
    parser.add_argument("--degrade", action="store_true", help="degrade real and fake with the same random chain")
    parser.add_argument("--diff", action="store_true", help="add a row of amplified |fake - real|")
    args = parser.parse_args(argv)
    if args.family == "all" and args.out_dir is None:
        parser.error("--family all needs --out-dir")
    if args.family != "all" and args.out is None:
        parser.error("--out is required for one family")
    if args.family != "all" and FAMILIES[args.family].needs_autoencoders and args.autoencoders is None:
        parser.error(f"{args.family} needs --autoencoders DIR")
    if args.windows < 1 or args.frames < 1 or (args.length is not None and args.length < 1):
        parser.error("--windows, --frames and --length must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    length = args.length or args.frames
    # One window more than shown, so that the last shown window has a donor from another clip.
    windows = real_windows(args.cache, args.windows + 1, length, np.random.default_rng(args.seed))
    if not windows:
        sys.exit(f"no real clip in {args.cache} has {length} consecutive crops")
    bank = _load_bank(args.autoencoders)
    names = list(FAMILIES) if args.family == "all" else [args.family]
    for name in names:
        family = FAMILIES[name]
        if family.needs_autoencoders and bank is None:
            print(f"skipped {name}: needs --autoencoders", file=sys.stderr)
            continue
        sheet = contact_sheet(
            family,
            windows,
            count=args.windows,
            frames=args.frames,
            seed=args.seed,
            bank=bank,
            degrade=args.degrade,
            diff=args.diff,
        )
        path = args.out if args.family != "all" else args.out_dir / f"{name}.png"
        write_png(path, sheet)
        print(path)


if __name__ == "__main__":
    main()
