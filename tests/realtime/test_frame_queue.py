import threading
import time

import pytest

from realtime.frame_queue import BoundedQueue, DropPolicy, QueueClosed


def test_keep_newest_drops_oldest_and_counts():
    queue = BoundedQueue[int](3, DropPolicy.KEEP_NEWEST)
    for item in range(5):
        assert queue.put(item)
    assert queue.dropped == 2
    queue.close()
    assert [queue.get(), queue.get(), queue.get(), queue.get()] == [2, 3, 4, None]


def test_never_policy_makes_the_producer_wait_instead_of_dropping():
    queue = BoundedQueue[int](2, DropPolicy.NEVER)
    queue.put(1)
    queue.put(2)
    assert queue.put(3, timeout_s=0.05) is False
    assert queue.dropped == 0
    assert queue.get() == 1
    assert queue.put(3, timeout_s=0.05) is True


def test_close_releases_a_blocked_producer_and_a_waiting_consumer():
    full = BoundedQueue[int](1, DropPolicy.NEVER)
    full.put(0)
    empty = BoundedQueue[int](1, DropPolicy.NEVER)
    outcomes: list[object] = []

    def produce() -> None:
        try:
            full.put(1)
        except QueueClosed:
            outcomes.append("closed")

    threads = [threading.Thread(target=produce), threading.Thread(target=lambda: outcomes.append(empty.get()))]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    full.close()
    empty.close()
    for thread in threads:
        thread.join(1.0)
        assert not thread.is_alive()
    assert sorted(map(str, outcomes)) == ["None", "closed"]


def test_get_batch_takes_what_is_there_up_to_the_limit():
    queue = BoundedQueue[int](10, DropPolicy.NEVER)
    for item in range(5):
        queue.put(item)
    assert queue.get_batch(3) == [0, 1, 2]
    assert queue.get_batch(10) == [3, 4]
    with pytest.raises(TimeoutError):
        queue.get_batch(10, timeout_s=0.01)
    queue.close()
    assert queue.get_batch(10) is None
