"""Video files and network streams (RTSP, HTTP, HLS) decoded with PyAV."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import av

from common.decode import decoded_frames
from common.urls import mask_text, mask_url
from realtime.frames import Frame
from realtime.sources.base import SourceError, SourceHealth

# Consecutive frames whose timestamps lie further apart than this many frame intervals leave a gap: video
# the source never delivered (a cut HLS segment, a lost stretch of a stream), reported as such.
GAP_FRAME_INTERVALS = 4

# Opening a live stream: probe as little as possible so the first frame comes quickly.
_LIVE_OPTIONS = {"probesize": "32", "analyzeduration": "0"}


class AvSource:
    """Any container/codec FFmpeg reads: a local file or a URL.

    Files are decoded as fast as the consumer takes them unless ``realtime`` paces them by
    their timestamps (to simulate a live feed); URLs are treated as live. ``sample_every=N``
    passes on every Nth frame only (frame indices stay those of the file).
    """

    still_images = False

    def __init__(
        self,
        target: str,
        *,
        live: bool,
        realtime: bool = False,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 10.0,
        sample_every: int = 1,
    ) -> None:
        self.target = target
        self.sample_every = max(1, sample_every)
        self.name = mask_url(target)
        self.is_live = live or realtime
        self.realtime = realtime
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self._container: av.container.InputContainer | None = None
        self.fps: float | None = None
        self.decode_errors = 0  # damaged packets skipped
        # Container time of the first frame (frame pts_s count from it); None without timestamps.
        self.first_pts_s: float | None = None
        self.decode_gaps: list[list[float | None]] = []  # [start_s, end_s] spans lost to them
        self.timestamp_gaps: list[list[float]] = []  # [start_s, end_s] spans the timestamps skip

    def open(self) -> None:
        options = dict(_LIVE_OPTIONS) if self.target.startswith(("rtsp://", "rtsps://")) else {}
        if self.target.startswith(("rtsp://", "rtsps://")):
            options["rtsp_transport"] = "tcp"
        try:
            container = av.open(self.target, options=options, timeout=(self.open_timeout_s, self.read_timeout_s))
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"cannot open {self.name}: {_reason(exc)}") from None
        except (UnicodeDecodeError, ValueError) as exc:  # PyAV decoding damaged metadata or parameters
            raise SourceError(f"cannot open {self.name}: damaged container ({type(exc).__name__})") from None
        if not container.streams.video:
            container.close()
            raise SourceError(f"no video stream in {self.name}")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        self.fps = float(stream.average_rate) if stream.average_rate else None
        self._container = container

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        if self._container is None:
            raise SourceError(f"{self.name} is not open")
        stream = self._container.streams.video[0]
        fps = self.fps or 25.0
        first_pts: float | None = None
        last_good_s = 0.0
        wall_start = 0.0
        frames_decoded = 0
        broken_since_s: float | None = None  # set while packets fail to decode

        def damaged() -> None:
            # A damaged packet is skipped; the hole it leaves is reported once decoding resumes.
            nonlocal broken_since_s
            self.decode_errors += 1
            if broken_since_s is None:
                broken_since_s = last_good_s

        try:
            for decoded in decoded_frames(self._container, stream, damaged):
                if stop.is_set():
                    return
                frame, index = decoded.frame, decoded.index
                pts_s = float(frame.time) if frame.time is not None else index / fps
                if first_pts is None:
                    first_pts, wall_start = pts_s, time.monotonic()
                    self.first_pts_s = pts_s if frame.time is not None else None
                pts_s -= first_pts
                if broken_since_s is not None:
                    self.decode_gaps.append([round(broken_since_s, 3), round(pts_s, 3)])
                    broken_since_s = None
                elif self.fps and frame.time is not None and pts_s - last_good_s > GAP_FRAME_INTERVALS / self.fps:
                    self.timestamp_gaps.append([round(last_good_s, 3), round(pts_s, 3)])
                last_good_s = pts_s
                if self.realtime:
                    # Pace by timestamps; waiting on the stop event keeps stop() immediate.
                    delay = pts_s - (time.monotonic() - wall_start)
                    if delay > 0 and stop.wait(delay):
                        return
                if index % self.sample_every == 0:
                    # Skipped frames are decoded (codecs need them) but never converted to RGB.
                    yield Frame(index=index, pts_s=pts_s, captured_at=time.monotonic(), image=decoded.upright_rgb())
                frames_decoded = index + 1
        except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
            raise SourceError(f"error reading {self.name} after {frames_decoded} frames: {_reason(exc)}") from None
        if broken_since_s is not None:
            self.decode_gaps.append([round(broken_since_s, 3), None])

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def health(self) -> SourceHealth:
        gaps = tuple((start, end) for start, end in self.decode_gaps)
        skipped = tuple((start, end) for start, end in self.timestamp_gaps)
        return SourceHealth(decode_errors=self.decode_errors, decode_gaps=gaps, timestamp_gaps=skipped)


def _reason(exc: BaseException) -> str:
    """One masked line from an FFmpeg error, without the file name FFmpeg repeats."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return mask_text(str(text).splitlines()[0])


def is_stream_url(target: str) -> bool:
    """Whether ``target`` names a network stream rather than a local file."""
    return target.split("://", 1)[0].lower() in {"rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt"}
