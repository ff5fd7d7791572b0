"""The capture thread: decodes a source into a bounded frame queue, nothing else."""

from __future__ import annotations

import threading

from realtime.frame_queue import BoundedQueue, QueueClosed
from realtime.frames import Frame
from realtime.sources.base import FrameSource, SourceError


class CaptureThread(threading.Thread):
    """Opens ``source``, pushes its frames into ``frames_out`` and closes the queue at the end.

    A read error ends the thread with ``error`` set (one line); the consumer still receives
    the end marker, so nothing downstream waits forever.
    """

    def __init__(self, source: FrameSource, frames_out: BoundedQueue[Frame], stop: threading.Event) -> None:
        super().__init__(name=f"capture[{source.name}]", daemon=True)
        self.source = source
        self.frames_out = frames_out
        self.stop_event = stop
        self.frames_read = 0
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.source.open()
            try:
                for frame in self.source.frames(self.stop_event):
                    self.frames_out.put(frame)
                    self.frames_read += 1
            finally:
                self.source.close()
        except QueueClosed:
            pass  # the pipeline stopped and closed the queue under us
        except SourceError as exc:
            self.error = str(exc)
        except Exception as exc:  # a capture crash must never take the process down silently
            self.error = f"capture of {self.source.name} failed: {type(exc).__name__}: {exc}"
        finally:
            self.frames_out.close()
