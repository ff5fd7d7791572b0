"""The result store, the alert rule and the display reader, without a window."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from faces.geometry import Box
from realtime.colors import AMBER, GREEN, RED, score_color
from realtime.frames import AnalyzedFrame, Frame, TrackedFace, Verdict
from realtime.sources.av_source import AvSource
from realtime.sources.demo import render_face_frames
from services.alerts import AlertPolicy, AlertRule
from ui.playback import FilePlayback
from ui.results import ResultStore


def verdict(track_id: int, last_frame: int, p_fake: float, fps: float = 25.0, window: int = 8) -> Verdict:
    first = last_frame - window + 1
    return Verdict("clip", track_id, first, last_frame, first / fps, last_frame / fps, window, p_fake, "real", 30.0)


def test_store_answers_by_the_time_shown_not_the_time_analysed():
    store = ResultStore(thumbnail_px=32)
    images = render_face_frames(30)
    for index, image in enumerate(images):
        box = Box(100 + index, 60, 240 + index, 200)
        store.add_frame(AnalyzedFrame("clip", Frame(index, index / 25, 0.0, image), (TrackedFace(1, box),)))
    for last in (7, 10, 13):
        store.add_verdict(verdict(1, last, last / 100))
    assert store.analysed_until_s() == pytest.approx(29 / 25)
    assert store.faces_at(12 / 25)[0].box.left == 112
    assert store.faces_at(30 / 25) is None  # not analysed yet
    assert store.verdict_at(1, 3 / 25).p_fake == 0.07  # inside the first window
    assert store.verdict_at(1, 12 / 25).p_fake == 0.10  # newest window ended by then
    assert store.verdict_at(1, 20 / 25).p_fake == 0.13
    assert store.verdict_at(2, 12 / 25) is None
    (series,) = store.series()
    assert series.track_id == 1 and list(series.p_fake) == [0.07, 0.10, 0.13]
    thumb = store.thumbnail(1, 13)
    left, top = 113, 60
    expected = images[13][top : top + 140, left : left + 140].mean(axis=(0, 1))
    assert thumb.shape == (32, 32, 3) and np.abs(thumb.mean(axis=(0, 1)) - expected).max() < 3
    assert store.version == 3 and store.median_latency_ms() == 30.0


def test_store_forgets_the_oldest_frames_past_its_bound():
    store = ResultStore(max_frames=100)
    image = np.zeros((8, 8, 3), np.uint8)
    for index in range(250):
        store.add_frame(AnalyzedFrame("clip", Frame(index, index / 25, 0.0, image), ()))
    assert store.faces_at(0.0) is None and store.faces_at(249 / 25) == ()
    assert len(store._frame_pts) <= 100


def test_alert_needs_the_hold_time_above_threshold_and_fires_once_per_episode():
    monitor = AlertPolicy(AlertRule(threshold=0.5, hold_s=0.5))
    scores = [
        0.6,
        0.7,
        0.6,
        0.7,
        0.8,
        0.9,
        0.4,
        0.6,
        0.6,
        0.6,
        0.6,
        0.6,
        0.6,
        0.7,
    ]  # one window every 3 frames (0.12 s)
    fired = [monitor.observe(verdict(1, 10 + 3 * i, p)) for i, p in enumerate(scores)]
    alerts = [(i, a) for i, a in enumerate(fired) if a is not None]
    # First episode: above from window 0 (0.4 s) and 0.5 s later at window 5; again after the dip.
    assert [i for i, _ in alerts] == [5, 12]
    first = alerts[0][1]
    assert first.since_pts_s == pytest.approx(10 / 25) and first.at_pts_s - first.since_pts_s >= 0.5
    assert first.p_fake == 0.9 and first.frame_index == 25
    other = AlertPolicy(AlertRule(threshold=0.5, hold_s=0.0))
    assert other.observe(verdict(2, 7, 0.49)) is None and other.observe(verdict(2, 10, 0.5)) is not None


def test_score_colours_run_green_amber_red_at_the_threshold():
    assert score_color(0.1, 0.6) == GREEN and score_color(0.6, 0.6) == RED and score_color(0.9, 0.6) == RED
    assert score_color(0.85 * 0.6, 0.6) == AMBER
    near = score_color(0.59, 0.6)
    assert near[0] > 230 and near[1] < AMBER[1]  # between amber and red, still below the threshold's red


def test_playback_decodes_and_seeks_to_the_engines_frames(one_face_clip):
    source = AvSource(str(one_face_clip), live=False)
    source.open()
    engine_frames = list(source.frames(threading.Event()))
    source.close()
    playback = FilePlayback(str(one_face_clip), buffer_frames=4)
    playback.start()
    try:
        assert playback.fps == 25.0 and playback.duration_s == pytest.approx(3.0)
        shown = []
        condition = threading.Event()
        while not playback.ended and not condition.wait(0.002):
            frame = playback.next_frame()
            if frame is not None:
                shown.append(frame)
        assert [f.pts_s for f in shown] == [f.pts_s for f in engine_frames]
        assert all(np.array_equal(a.image, b.image) for a, b in zip(shown, engine_frames, strict=True))

        generation = playback.seek(1.2)
        while (frame := playback.next_frame()) is None:
            condition.wait(0.002)
        assert frame.generation == generation and frame.pts_s == pytest.approx(1.2)
        assert np.array_equal(frame.image, engine_frames[30].image)
        # Frames due by a clock: the newest at or before it, older ones skipped.
        while len(playback._buffer) < 4:  # the decoder fills its buffer: 1.24, 1.28, 1.32, 1.36
            condition.wait(0.002)
        assert playback.take_due(1.29).pts_s == pytest.approx(1.28)
        assert playback.peek_pts_s() == pytest.approx(1.32)
    finally:
        playback.close()
    assert not playback.is_alive()
