"""The inference inbox: ordered messages, and each live face's newest crop waiting its turn."""

import threading

import numpy as np
import pytest

from realtime.frame_queue import QueueClosed
from realtime.frames import FaceCrop
from realtime.inbox import InferenceInbox
from realtime.messages import StreamEnded, TrackEnded


def crop(source: str, track_id: int, frame_index: int) -> FaceCrop:
    return FaceCrop(source, track_id, frame_index, frame_index / 30, 0.0, np.zeros((4, 4, 3), np.uint8))


def frames_of(messages) -> list:
    return [(m.source, m.track_id, m.frame_index) if isinstance(m, FaceCrop) else type(m).__name__ for m in messages]


def test_a_newer_crop_replaces_the_waiting_one_and_faces_take_turns_oldest_first():
    inbox = InferenceInbox(8)
    inbox.offer(crop("cam", 1, 0))
    inbox.offer(crop("cam", 2, 0))
    inbox.offer(crop("cam", 1, 1))  # face 1's newer crop replaces its older one and keeps face 1's place
    inbox.offer(crop("cam", 1, 2))
    assert inbox.replaced == 2
    taken = [inbox.take(32) for _ in range(2)]
    assert [frames_of(batch) for batch in taken] == [[("cam", 1, 2)], [("cam", 2, 0)]]  # one waiting crop a take


def test_faces_offered_every_frame_in_one_order_are_all_served_in_turn():
    # Four faces of one camera offer a crop every frame, always in the same order; the model takes one
    # crop every third frame. Every face must be served, in turn, not the first face every time.
    inbox = InferenceInbox(8)
    served = []
    for frame in range(24):
        for track in (1, 2, 3, 4):
            inbox.offer(crop("cam", track, frame))
        if frame % 3 == 2:
            (taken,) = inbox.take(32)
            served.append((taken.track_id, taken.frame_index))
    assert [track for track, _ in served] == [1, 2, 3, 4, 1, 2, 3, 4]
    assert all(index == frame for (_, index), frame in zip(served, range(2, 24, 3), strict=True))  # the newest


def test_ordered_messages_go_first_and_come_in_batches():
    inbox = InferenceInbox(8)
    inbox.offer(crop("live", 1, 5))
    for index in range(3):
        inbox.put(crop("file", 1, index))
    assert frames_of(inbox.take(2)) == [("file", 1, 0), ("file", 1, 1)]
    assert frames_of(inbox.take(2)) == [("file", 1, 2)]
    assert frames_of(inbox.take(2)) == [("live", 1, 5)]


def test_an_end_lets_its_waiting_crops_be_scored_first():
    inbox = InferenceInbox(8)
    inbox.offer(crop("cam", 1, 7))
    inbox.offer(crop("cam", 2, 7))
    inbox.offer(crop("other", 1, 7))
    inbox.put(TrackEnded("cam", 1))
    assert frames_of(inbox.take(8)) == [("cam", 1, 7), "TrackEnded"]
    inbox.put(StreamEnded("cam"))
    assert frames_of(inbox.take(8)) == [("cam", 2, 7), "StreamEnded"]
    assert frames_of(inbox.take(8)) == [("other", 1, 7)]  # another stream's face keeps waiting its turn


def test_a_full_queue_holds_the_producer_until_there_is_room():
    inbox = InferenceInbox(2)
    inbox.put(crop("file", 1, 0))
    inbox.put(crop("file", 1, 1))
    done = threading.Event()

    def produce() -> None:
        inbox.put(crop("file", 1, 2))
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    assert not done.wait(0.2)  # blocked: nothing is dropped from a file
    assert frames_of(inbox.take(1)) == [("file", 1, 0)]
    assert done.wait(5.0)
    producer.join()
    assert frames_of(inbox.take(8)) == [("file", 1, 1), ("file", 1, 2)]


def test_close_drains_then_ends_and_discard_drops_everything():
    inbox = InferenceInbox(4)
    inbox.put(crop("file", 1, 0))
    inbox.offer(crop("cam", 1, 0))
    inbox.close()
    with pytest.raises(QueueClosed):
        inbox.put(crop("file", 1, 1))
    assert frames_of(inbox.take(8)) == [("file", 1, 0)]
    assert frames_of(inbox.take(8)) == [("cam", 1, 0)]
    assert inbox.take(8) is None
    dropped = InferenceInbox(4)
    dropped.put(crop("file", 1, 0))
    dropped.offer(crop("cam", 1, 0))
    dropped.discard()
    assert dropped.take(8) is None
