"""A region of the screen (a video call window, say) captured with mss."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from realtime.frames import Frame
from realtime.sources.base import HEALTHY, SourceError, SourceHealth


def parse_region(text: str) -> tuple[int, int, int, int] | None:
    """``""`` -> None (whole primary screen); ``"x,y,w,h"`` -> the region."""
    if not text:
        return None
    parts = text.split(",")
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0 or values[0] < 0 or values[1] < 0:
        raise SourceError(f"screen region must be x,y,width,height with positive size, not {text!r}")
    return values  # type: ignore[return-value]


class ScreenSource:
    """Grabs the screen (or a region) at up to ``fps`` frames per second."""

    is_live = True
    still_images = False

    def __init__(self, region: tuple[int, int, int, int] | None, fps: float = 15.0) -> None:
        self.region = region
        self.fps = fps
        self.name = "screen:" + (",".join(map(str, region)) if region else "")
        self._grabber = None
        self._monitor: dict[str, int] = {}

    def open(self) -> None:
        import mss

        try:
            grabber = mss.MSS()
            primary = grabber.monitors[1] if len(grabber.monitors) > 1 else grabber.monitors[0]
        except Exception as exc:  # mss raises its own ScreenShotError and X errors
            raise SourceError(f"screen capture unavailable (no display?): {str(exc).splitlines()[0]}") from None
        if self.region is None:
            self._monitor = dict(primary)
        else:
            x, y, width, height = self.region
            if x + width > primary["left"] + primary["width"] or y + height > primary["top"] + primary["height"]:
                grabber.close()
                raise SourceError(
                    f"screen region {self.name} lies outside the screen ({primary['width']}x{primary['height']})"
                )
            self._monitor = {"left": x, "top": y, "width": width, "height": height}
        self._grabber = grabber

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        if self._grabber is None:
            raise SourceError(f"{self.name} is not open")
        period_s = 1.0 / self.fps
        start = time.monotonic()
        index = 0
        while not stop.is_set():
            shot = self._grabber.grab(self._monitor)
            now = time.monotonic()
            rgb = np.ascontiguousarray(np.asarray(shot)[:, :, 2::-1])  # BGRA -> RGB
            yield Frame(index=index, pts_s=now - start, captured_at=now, image=rgb)
            index += 1
            # Hold the frame rate; the stop event ends the wait at once.
            if stop.wait(max(0.0, start + index * period_s - time.monotonic())):
                return

    def close(self) -> None:
        if self._grabber is not None:
            self._grabber.close()
            self._grabber = None

    def health(self) -> SourceHealth:
        return HEALTHY
