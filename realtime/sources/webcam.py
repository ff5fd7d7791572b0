"""Local cameras through OpenCV (V4L2 on Linux)."""

from __future__ import annotations

import glob
import re
import threading
import time
from collections.abc import Iterator

import cv2

from realtime.frames import Frame
from realtime.sources.base import HEALTHY, SourceError, SourceHealth


def available_webcams() -> list[int]:
    """Indices of /dev/videoN devices present on this machine."""
    indices = []
    for device in glob.glob("/dev/video*"):
        match = re.fullmatch(r"/dev/video(\d+)", device)
        if match:
            indices.append(int(match.group(1)))
    return sorted(indices)


class WebcamSource:
    """Frames from camera ``index``; timestamps are capture times (cameras have no file pts)."""

    is_live = True
    still_images = False

    def __init__(self, index: int) -> None:
        self.index = index
        self.name = f"webcam:{index}"
        self._capture: cv2.VideoCapture | None = None

    def open(self) -> None:
        present = available_webcams()
        if self.index not in present:
            listing = ", ".join(f"webcam:{i}" for i in present) or "none"
            raise SourceError(f"no webcam with index {self.index}; cameras present: {listing}")
        capture = cv2.VideoCapture(self.index)
        if not capture.isOpened():
            raise SourceError(f"cannot open webcam:{self.index} (busy or no permission)")
        self._capture = capture

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        if self._capture is None:
            raise SourceError(f"{self.name} is not open")
        start = time.monotonic()
        index = 0
        while not stop.is_set():
            ok, bgr = self._capture.read()  # blocks until the camera delivers the next frame
            if not ok:
                raise SourceError(f"webcam:{self.index} stopped delivering frames after {index}")
            now = time.monotonic()
            yield Frame(index=index, pts_s=now - start, captured_at=now, image=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            index += 1

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def health(self) -> SourceHealth:
        return HEALTHY
