"""Bounded hand-off between threads with a named drop policy and an end marker."""

from __future__ import annotations

import threading
from collections import deque
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")


class DropPolicy(Enum):
    """What a full queue does with a new item."""

    NEVER = "never"  # the producer waits: files, where every frame counts
    KEEP_NEWEST = "keep_newest"  # the oldest item is dropped and counted: live sources


class QueueClosed(Exception):
    """Raised by ``put`` after ``close``."""


class BoundedQueue(Generic[T]):
    """A bounded FIFO; ``get`` returns None once closed and drained."""

    def __init__(self, maxsize: int, policy: DropPolicy) -> None:
        if maxsize < 1:
            raise ValueError("queue size must be at least 1")
        self.maxsize = maxsize
        self.policy = policy
        self.dropped = 0
        self._items: deque[T] = deque()
        self._closed = False
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)

    def put(self, item: T, timeout_s: float | None = None) -> bool:
        """Adds an item; returns False if it waited ``timeout_s`` without room (NEVER policy)."""
        with self._lock:
            if self._closed:
                raise QueueClosed
            if len(self._items) >= self.maxsize:
                if self.policy is DropPolicy.KEEP_NEWEST:
                    self._items.popleft()
                    self.dropped += 1
                elif not self._not_full.wait_for(
                    lambda: self._closed or len(self._items) < self.maxsize, timeout=timeout_s
                ):
                    return False
                if self._closed:
                    raise QueueClosed
            self._items.append(item)
            self._not_empty.notify()
            return True

    def get(self, timeout_s: float | None = None) -> T | None:
        """Next item; None when closed and empty. Raises TimeoutError after ``timeout_s``."""
        with self._lock:
            if not self._not_empty.wait_for(lambda: self._items or self._closed, timeout=timeout_s):
                raise TimeoutError
            if not self._items:
                return None
            item = self._items.popleft()
            self._not_full.notify()
            return item

    def get_batch(self, max_items: int, timeout_s: float | None = None) -> list[T] | None:
        """Up to ``max_items`` items, waiting only for the first; None when closed and empty."""
        with self._lock:
            if not self._not_empty.wait_for(lambda: self._items or self._closed, timeout=timeout_s):
                raise TimeoutError
            if not self._items:
                return None
            batch = [self._items.popleft() for _ in range(min(max_items, len(self._items)))]
            self._not_full.notify_all()
            return batch

    def close(self) -> None:
        """Marks the end: getters drain what is left, then receive None; putters are released."""
        with self._lock:
            self._closed = True
            self._not_empty.notify_all()
            self._not_full.notify_all()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
