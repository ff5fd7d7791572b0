"""Verdict sinks on their own thread: a sink that raises, or whose reader went away, cannot stop the model."""

import threading

from common.errors import OutputClosed
from realtime.config import EngineConfig
from realtime.engine import build_engine
from realtime.frames import Verdict
from realtime.sinks import SinkThread, VerdictSink
from realtime.sources.av_source import AvSource


def verdict(index: int) -> Verdict:
    return Verdict("cam", 1, index, index + 7, index / 30, (index + 7) / 30, 8, 0.3, "real", 5.0)


def test_a_raising_sink_is_reported_once_by_name_and_the_others_get_every_verdict():
    received, reports = [], []

    def broken(_verdict: Verdict) -> None:
        raise ValueError("disk full\nsecond line")

    closed = threading.Event()
    sinks = SinkThread(
        [VerdictSink("report writer", broken), VerdictSink("collector", received.append)],
        on_output_closed=closed.set,
        on_failure=lambda name, message: reports.append((name, message)),
    )
    sinks.start()
    for index in range(20):
        sinks.put(verdict(index))
    sinks.finish()
    sinks.join(5.0)
    assert not sinks.is_alive()
    assert [v.first_frame for v in received] == list(range(20))
    assert reports == [("report writer", "ValueError: disk full")]
    assert sinks.failures == {"report writer": "ValueError: disk full"} and not closed.is_set()


def test_a_closed_output_asks_the_run_to_stop_once():
    stops = []

    def closed_pipe(_verdict: Verdict) -> None:
        raise OutputClosed

    sinks = SinkThread([VerdictSink("JSON lines", closed_pipe)], on_output_closed=lambda: stops.append(1))
    sinks.start()
    for index in range(5):
        sinks.put(verdict(index))
    sinks.finish()
    sinks.join(5.0)
    assert stops == [1] and sinks.output_closed and sinks.delivered == 5


def test_a_sink_that_raises_leaves_the_model_and_the_other_outputs_running(one_face_clip, small_checkpoint):
    engine = build_engine(EngineConfig(device="cpu", torch_threads=1), small_checkpoint)
    collected, failing_calls = [], []

    def failing(verdict: Verdict) -> None:
        failing_calls.append(verdict)
        raise RuntimeError("the alert hook crashed")

    pipeline = engine.pipeline(
        [AvSource(str(one_face_clip), live=False)],
        [VerdictSink("alert hook", failing), VerdictSink("collector", collected.append)],
    )
    pipeline.start()
    pipeline.wait()
    assert pipeline.join(5.0)
    assert pipeline.inference.error is None
    assert len(failing_calls) == 1  # left out after its first failure
    assert len(collected) == pipeline.inference.windows_scored and len(collected) >= 14
    assert pipeline.sinks.failures == {"alert hook": "RuntimeError: the alert hook crashed"}


def test_a_display_tap_that_raises_is_dropped_and_the_stream_still_ends(one_face_clip, small_checkpoint):
    engine = build_engine(EngineConfig(device="cpu", torch_threads=1), small_checkpoint)
    collected, shown = [], []

    def display(frame) -> None:
        shown.append(frame)
        raise KeyError("widget gone")

    pipeline = engine.pipeline([AvSource(str(one_face_clip), live=False)], collected.append, display)
    pipeline.start()
    pipeline.wait()
    assert pipeline.join(5.0)
    assert len(shown) == 1 and collected and pipeline.stats()[0].frames_analyzed == 75
    assert pipeline.streams[0].faces.loop.tap_error == "KeyError: 'widget gone'"
