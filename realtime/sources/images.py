"""Still images: one file or a folder of them, each scored on its own."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2

from realtime.frames import Frame
from realtime.sources.base import SourceError, SourceHealth

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


class ImageSource:
    """Yields each image as a frame of its own clip, so no window spans two pictures."""

    is_live = False
    still_images = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        self.skipped: list[str] = []  # files that could not be decoded

    def open(self) -> None:
        if self.path.is_dir():
            self._files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not self._files:
                raise SourceError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {self.path}")
        else:
            self._files = [self.path]

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        for index, file in enumerate(self._files):
            if stop.is_set():
                return
            bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if bgr is None:
                if len(self._files) == 1:
                    raise SourceError(f"cannot decode image {file}")
                self.skipped.append(file.name)
                print(f"warning: skipping undecodable image {file}", file=sys.stderr)
                continue
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            yield Frame(index=index, pts_s=0.0, captured_at=time.monotonic(), image=rgb, clip_id=index, name=file.name)

    def close(self) -> None:
        self._files = []

    def health(self) -> SourceHealth:
        return SourceHealth(skipped_images=tuple(self.skipped))
