"""The inference thread's inbox: ordered messages, and each face's newest crop waiting its turn.

Messages that must arrive in order (crops of files and scans, track and stream ends) wait in a
bounded FIFO: the face stage waits when it is full, so nothing is lost. Live sources on a CPU
cannot have every crop embedded (a CLIP forward costs a quarter of a second), so each of their
faces keeps only its newest crop waiting (``offer``: a newer crop replaces the older one, in its face's
place in line); the inference thread takes the waiting crops of all faces in turn, the face that has
waited longest first.
The video and its boxes keep the source's frame rate; only scoring is sampled.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque

from realtime.frame_queue import QueueClosed
from realtime.frames import FaceCrop
from realtime.messages import InferenceMessage, StreamEnded, TrackEnded


class InferenceInbox:
    """Bounded ordered messages plus one waiting crop per live face; ``take`` returns None when closed and empty."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("inbox size must be at least 1")
        self.maxsize = maxsize
        self.replaced = 0  # waiting crops a newer crop of the same face replaced before their turn
        self._ordered: deque[InferenceMessage] = deque()
        self._waiting: OrderedDict[tuple[str, int], FaceCrop] = OrderedDict()  # oldest first
        self._closed = False
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def put(self, message: InferenceMessage) -> None:
        """Queues a message in order, waiting while the queue is full; raises QueueClosed after ``close``.

        A track's (or stream's) end first moves its faces' waiting crops into the queue, so their
        windows are scored before the end flushes them.
        """
        with self._lock:
            if self._closed:
                raise QueueClosed
            if isinstance(message, TrackEnded | StreamEnded):
                self._release_waiting(message)
            else:
                self._changed.wait_for(lambda: self._closed or len(self._ordered) < self.maxsize)
            if self._closed:
                raise QueueClosed
            self._ordered.append(message)
            self._changed.notify_all()

    def offer(self, crop: FaceCrop) -> None:
        """Makes ``crop`` its face's waiting crop, replacing an older one (never waits)."""
        with self._lock:
            if self._closed:
                raise QueueClosed
            key = (crop.source, crop.track_id)
            if key in self._waiting:
                self.replaced += 1
            # A replaced crop keeps its face's place in line: the line orders faces by how long they have
            # waited, not by when their newest crop came (faces offered every frame in one order would
            # otherwise leave the first of them always the oldest, and starve the others).
            self._waiting[key] = crop
            self._changed.notify_all()

    def take(self, max_items: int) -> list[InferenceMessage] | None:
        """Up to ``max_items`` ordered messages, else the crop that waited longest; None when closed and empty."""
        with self._lock:
            self._changed.wait_for(lambda: self._ordered or self._waiting or self._closed)
            if self._ordered:
                batch = [self._ordered.popleft() for _ in range(min(max_items, len(self._ordered)))]
            elif self._waiting:
                batch = [self._waiting.popitem(last=False)[1]]
            else:
                return None
            self._changed.notify_all()
            return batch

    def close(self) -> None:
        """Marks the end: ``take`` drains what is left, then returns None; waiting putters are released."""
        with self._lock:
            self._closed = True
            self._changed.notify_all()

    def discard(self) -> None:
        """Drops everything waiting and closes: nobody will read the results (the output's reader went away)."""
        with self._lock:
            self._ordered.clear()
            self._waiting.clear()
            self._closed = True
            self._changed.notify_all()

    def _release_waiting(self, end: TrackEnded | StreamEnded) -> None:
        """Moves the waiting crops that ``end`` concerns to the ordered queue (the caller holds the lock).

        They may overfill the bound by one crop per face: an end must not wait behind its own crops.
        """
        if isinstance(end, TrackEnded):
            keys = [(end.source, end.track_id)] if (end.source, end.track_id) in self._waiting else []
        else:
            keys = [key for key in self._waiting if key[0] == end.source]
        for key in keys:
            self._ordered.append(self._waiting.pop(key))
