"""Display-side decoding of a video file: a thread decodes a few frames ahead of the playhead and seeks on request.

The analysis engine reads the same file on its own, as fast as it can; this reader serves a
display that plays at the file's frame rate, pauses, steps and jumps. Its timestamps use the
engine's clock (seconds from the first frame), so what the engine found at a frame can be
looked up for the frame shown.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np

from common.decode import upright_rgb
from common.urls import mask_url
from realtime.sources.base import SourceError

JOIN_TIMEOUT_S = 5.0


@dataclass(frozen=True, eq=False)
class PlaybackFrame:
    """A decoded frame for display."""

    pts_s: float  # seconds from the first frame, the engine's Frame.pts_s for the same frame
    image: np.ndarray  # H x W x 3, uint8, RGB
    generation: int  # which seek produced it: frames of an earlier seek are stale


class FilePlayback(threading.Thread):
    """Decodes ``path`` into a small buffer on its own thread; the display takes frames as they fall due.

    ``seek`` discards the buffer and restarts decoding at the requested time (the frame shown at
    that time, found by decoding from the keyframe before it). Nothing here blocks the caller
    except the short lock around the buffer.
    """

    def __init__(self, path: str, buffer_frames: int = 8) -> None:
        super().__init__(name=f"playback[{mask_url(path)}]", daemon=True)
        self.path = path
        self.buffer_frames = buffer_frames
        self._container = self._open(path)
        stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        self._stream = stream
        self.fps = float(stream.average_rate) if stream.average_rate else 25.0
        self._decoded = self._decode()
        try:
            first = next(self._decoded, None)
        except (av.FFmpegError, OSError):
            first = None
        if first is None:
            self._container.close()
            raise SourceError(f"no decodable frame in {mask_url(path)}")
        self.first_pts_s = float(first.time) if first.time is not None else 0.0
        self.height, self.width = upright_rgb(first).shape[:2]  # as shown, display rotation applied
        self.duration_s = self._duration(stream)
        self._condition = threading.Condition()
        self._buffer: deque[PlaybackFrame] = deque([self._to_frame(first, 0)])
        self._generation = 0
        self._seek_to_s: float | None = None
        self._ended = False
        self._stopped = False
        self.error: str | None = None

    @staticmethod
    def _open(path: str) -> av.container.InputContainer:
        try:
            container = av.open(path)
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"cannot open {mask_url(path)}: {getattr(exc, 'strerror', None) or exc}") from None
        if not container.streams.video:
            container.close()
            raise SourceError(f"no video stream in {mask_url(path)}")
        return container

    def _duration(self, stream: av.video.stream.VideoStream) -> float:
        """Seconds from the first frame to the end of the last one."""
        if stream.duration is not None and stream.time_base is not None:
            end_s = float((stream.start_time or 0) + stream.duration) * float(stream.time_base)
        elif self._container.duration is not None:
            end_s = self._container.duration / av.time_base
        else:
            return 0.0
        return max(0.0, end_s - self.first_pts_s)

    def _decode(self) -> Iterator[av.VideoFrame]:
        return self._container.decode(self._stream)

    def _to_frame(self, decoded: av.VideoFrame, generation: int) -> PlaybackFrame:
        pts_s = float(decoded.time) - self.first_pts_s if decoded.time is not None else 0.0
        # Upright as the engine analysed it, so the engine's face boxes land on the face shown.
        return PlaybackFrame(round(pts_s, 4), upright_rgb(decoded), generation)

    @property
    def frame_period_s(self) -> float:
        return 1.0 / self.fps

    @property
    def generation(self) -> int:
        with self._condition:
            return self._generation

    @property
    def ended(self) -> bool:
        """The decoder reached the end of the file and every frame was taken."""
        with self._condition:
            return self._ended and not self._buffer

    def seek(self, pts_s: float) -> int:
        """Restarts decoding at ``pts_s`` (clamped into the file); returns the new generation."""
        with self._condition:
            self._seek_to_s = min(max(0.0, pts_s), max(0.0, self.duration_s - self.frame_period_s / 2))
            self._generation += 1
            self._buffer.clear()
            self._ended = False
            self._condition.notify_all()
            return self._generation

    def next_frame(self) -> PlaybackFrame | None:
        """The next decoded frame of the current generation, or None if none is ready yet."""
        with self._condition:
            if not self._buffer:
                return None
            frame = self._buffer.popleft()
            self._condition.notify_all()
            return frame

    def take_due(self, clock_s: float) -> PlaybackFrame | None:
        """The newest buffered frame at or before ``clock_s`` (older ones are skipped); None if none is due."""
        with self._condition:
            due = None
            while self._buffer and self._buffer[0].pts_s <= clock_s:
                due = self._buffer.popleft()
            if due is not None:
                self._condition.notify_all()
            return due

    def peek_pts_s(self) -> float | None:
        """pts of the next buffered frame."""
        with self._condition:
            return self._buffer[0].pts_s if self._buffer else None

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify_all()

    def close(self) -> None:
        """Stops the thread, waits for it and releases the file."""
        self.stop()
        if self.is_alive():
            self.join(JOIN_TIMEOUT_S)
        if not self.is_alive():
            self._container.close()

    def run(self) -> None:
        try:
            self._run()
        except (av.FFmpegError, OSError) as exc:
            with self._condition:
                self.error = f"error decoding {mask_url(self.path)} for display: {exc}"
                self._ended = True

    def _run(self) -> None:
        skip_before_s = -1.0
        while True:
            with self._condition:
                self._condition.wait_for(
                    lambda: (
                        self._stopped
                        or self._seek_to_s is not None
                        or (not self._ended and len(self._buffer) < self.buffer_frames)
                    )
                )
                if self._stopped:
                    return
                target_s, self._seek_to_s = self._seek_to_s, None
                generation = self._generation
            if target_s is not None:
                self._seek_container(target_s)
                # Frames before the target are decoded (from the keyframe) but not shown.
                skip_before_s = target_s - self.frame_period_s / 2
            decoded = next(self._decoded, None)
            # Colour conversion outside the lock: the display takes frames meanwhile.
            frame = self._to_frame(decoded, generation) if decoded is not None else None
            with self._condition:
                if generation != self._generation:
                    continue  # a newer seek came in while decoding; its request is pending
                if frame is None:
                    self._ended = True
                elif frame.pts_s >= skip_before_s:
                    self._buffer.append(frame)
                    self._condition.notify_all()

    def _seek_container(self, target_s: float) -> None:
        stream = self._stream
        offset = int((target_s + self.first_pts_s) / float(stream.time_base))
        self._container.seek(offset, stream=stream, backward=True, any_frame=False)
        self._decoded = self._decode()
