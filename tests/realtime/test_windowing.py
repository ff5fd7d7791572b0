import pytest

from realtime.windowing import TrackWindows, WindowEntry


def entry(index: int) -> WindowEntry:
    return WindowEntry(frame_index=index, pts_s=index / 30.0, captured_at=100.0 + index / 30.0, feature=index)


def test_first_window_when_ring_fills_then_every_stride():
    track = TrackWindows(window=4, stride=2)
    emitted = {}
    for i in range(10):
        window = track.push(entry(i))
        if window:
            emitted[i] = [e.frame_index for e in window]
    assert emitted == {3: [0, 1, 2, 3], 5: [2, 3, 4, 5], 7: [4, 5, 6, 7], 9: [6, 7, 8, 9]}


def test_flush_scores_a_short_track_once_and_never_a_scored_one():
    short = TrackWindows(window=8, stride=2)
    for i in range(3):
        assert short.push(entry(i)) is None
    assert [e.frame_index for e in short.flush()] == [0, 1, 2]
    assert short.flush() is None

    full = TrackWindows(window=2, stride=1)
    full.push(entry(0))
    assert full.push(entry(1))
    assert full.flush() is None


def test_window_of_one_scores_every_entry_alone():
    track = TrackWindows(window=1, stride=1)
    assert [[e.frame_index for e in track.push(entry(i))] for i in range(5)] == [[0], [1], [2], [3], [4]]
    assert track.windows_emitted == 5 and len(track) == 1 and track.flush() is None


def test_windows_of_a_crop_mean_head_grow_from_the_first_entry_then_slide():
    track = TrackWindows(window=4, stride=1, first=1)
    emitted = [[e.frame_index for e in track.push(entry(i))] for i in range(6)]
    assert emitted == [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]]
    assert track.flush() is None  # it was scored: nothing left to flush

    strided = TrackWindows(window=4, stride=3, first=1)
    due = {i: [e.frame_index for e in w] for i in range(8) if (w := strided.push(entry(i)))}
    assert due == {0: [0], 3: [0, 1, 2, 3], 6: [3, 4, 5, 6]}


def test_rejects_nonsense_sizes():
    with pytest.raises(ValueError):
        TrackWindows(window=0, stride=1)
    with pytest.raises(ValueError):
        TrackWindows(window=4, stride=1, first=5)
    with pytest.raises(ValueError):
        TrackWindows(window=4, stride=1, first=0)
