"""Threads and Ray backends on the same three streams (two files and a loopback RTSP stream).

Ray runs locally with 2 CPUs. Both backends use the torch runtime, so verdicts must agree.
"""

import io
import json
import threading

import pytest

from models.registry import load_model
from realtime.config import EngineConfig
from realtime.engine import build_engine
from realtime.output import JsonLinesWriter
from services.multistream.config import StreamSettings
from services.multistream.local import ThreadStreams
from services.multistream.sinks import StreamSinks
from tests.support.rtsp import RtspServer, require_rtsp_server

pytestmark = pytest.mark.slow
P_FAKE_TOLERANCE = 1e-3
PASSWORD = "s3cret-pw"


# Live streams keep the newest frames when analysis falls behind; a frame queue longer than any clip here
# means none is ever dropped however busy the machine, so both backends see the same frames of the live stream.
FRAME_QUEUE = 200


def engine_config(**overrides):
    # The RTSP stream ends with its clip (no reconnect), so every run ends by itself.
    settings = {"reconnect_attempts": 0, "frame_queue_size": FRAME_QUEUE, **overrides}
    return EngineConfig(device="cpu", runtime="torch", torch_threads=1, **settings)


class RecordingSinks(StreamSinks):
    """Sinks writing to memory that can run a hook on every verdict (in the driver)."""

    def __init__(self, streams, loaded, on_verdict=None):
        self.out = io.StringIO()
        super().__init__(streams, JsonLinesWriter(self.out), loaded.spec.trained, loaded.spec.threshold)
        self.on_verdict = on_verdict

    def verdict(self, verdict):
        super().verdict(verdict)
        if self.on_verdict is not None:
            self.on_verdict(verdict)

    def records(self, kind):
        return [r for r in map(json.loads, self.out.getvalue().splitlines()) if r["type"] == kind]


def run(runner, sinks):
    runner.start()
    try:
        runner.wait()
    finally:
        runner.stop()
        runner.close()
    assert runner.error is None
    return runner.stats()


def windows(records, stream):
    return {(r["track_id"], r["first_frame"], r["last_frame"]): r["p_fake"] for r in records if r["stream"] == stream}


def assert_same_verdicts(got, expected):
    assert got.keys() == expected.keys()
    assert all(abs(got[key] - expected[key]) <= P_FAKE_TOLERANCE for key in expected)


@pytest.fixture(scope="module")
def rtsp_server(one_face_clip):
    require_rtsp_server()
    with RtspServer(one_face_clip, user="viewer", password=PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def streams(one_face_clip, two_face_clip, rtsp_server):
    return [
        StreamSettings("one", str(one_face_clip)),
        StreamSettings("two", str(two_face_clip), detect_every=3),
        StreamSettings("cam", rtsp_server.url_with_credentials()),
    ]


@pytest.fixture(scope="module")
def threads_run(streams, small_checkpoint):
    engine = build_engine(engine_config(), small_checkpoint)
    sinks = RecordingSinks(streams, engine.detector)
    stats = run(ThreadStreams(streams, engine, sinks), sinks)
    return sinks, stats


def test_threads_backend_analyses_every_stream_once(threads_run):
    sinks, stats = threads_run
    verdicts = sinks.records("verdict")
    assert {name: {v["track_id"] for v in verdicts if v["stream"] == name} for name in stats} == {
        "one": {1},
        "two": {1, 2},
        "cam": {1},
    }
    assert stats["one"].frames_analyzed == 75 and stats["two"].frames_analyzed == 50
    assert stats["cam"].frames_read > 40 and stats["cam"].error is None


def test_ray_backend_gives_the_same_verdicts_per_stream(threads_run, streams, small_checkpoint, local_ray):
    from services.multistream.ray_backend import RayStreams

    loaded = load_model(small_checkpoint)
    sinks = RecordingSinks(streams, loaded)
    stats = run(RayStreams(streams, loaded, engine_config(), sinks), sinks)
    expected = threads_run[0].records("verdict")
    got = sinks.records("verdict")
    for name in ("one", "two"):
        assert_same_verdicts(windows(got, name), windows(expected, name))
        assert stats[name].frames_analyzed == threads_run[1][name].frames_analyzed
    # The live stream too, window by window: every client of the RTSP server gets the clip from its first
    # frame, and no frame was dropped (FRAME_QUEUE), so both face stages saw the same frames.
    assert stats["cam"].frames_dropped == 0 and threads_run[1]["cam"].frames_dropped == 0
    assert stats["cam"].frames_read == threads_run[1]["cam"].frames_read > 40
    live_got, live_expected = windows(got, "cam"), windows(expected, "cam")
    assert len(live_expected) >= 10, "the live stream was not scored"
    assert_same_verdicts(live_got, live_expected)
    output = sinks.out.getvalue()
    assert PASSWORD not in output and "rtsp://***@127.0.0.1" in output


VICTIM_FRAMES = 500


@pytest.fixture(scope="module")
def victim_clip(tmp_path_factory):
    """20 s of one face: the actor is killed at its first verdict, which reaches the driver while the actor
    reads on; with the 3 s clip it had sometimes read the whole file by then (resume frame 75 of 75), and the
    resumption this test is about had nothing left to resume."""
    from realtime.sources.demo import render_face_frames, write_video

    frames = render_face_frames(100)
    return write_video(tmp_path_factory.mktemp("clips") / "victim_20s.mp4", (frames + frames[::-1]) * 2 + frames)


def test_a_killed_stream_actor_is_restarted_and_resumes_while_the_others_go_on(
    threads_run, victim_clip, one_face_clip, two_face_clip, small_checkpoint, local_ray
):
    from services.multistream.ray_backend import RayStreams

    streams = [
        StreamSettings("victim", str(victim_clip)),
        StreamSettings("two", str(two_face_clip), detect_every=3),
        StreamSettings("one", str(one_face_clip)),
    ]
    loaded = load_model(small_checkpoint)
    killed = threading.Event()
    runner = None

    def kill_victim_once(verdict):
        if verdict.source == "victim" and not killed.is_set():
            killed.set()
            local_ray.kill(runner.actors["victim"], no_restart=False)

    sinks = RecordingSinks(streams, loaded, kill_victim_once)
    runner = RayStreams(streams, loaded, engine_config(), sinks)
    stats = run(runner, sinks)
    assert killed.is_set()
    restarts = [r for r in sinks.records("status") if r["event"] == "restarted"]
    assert [(r["stream"], r["incarnation"]) for r in restarts] == [("victim", 2)]
    assert runner.restarts("victim") == 1 and runner.restarts("one") == runner.restarts("two") == 0
    resume_frame = restarts[0]["resume_frame"]
    assert 0 < resume_frame < VICTIM_FRAMES
    victim = sinks.records("verdict")
    victim = [v for v in victim if v["stream"] == "victim"]
    before = [v for v in victim if v["track_id"] == 1]
    after = [v for v in victim if v["track_id"] > 1]
    assert before and after and {v["track_id"] for v in after} == {2}  # ids continue, never reused
    assert all(v["first_frame"] >= resume_frame for v in after)  # no window mixes two incarnations
    assert max(v["last_frame"] for v in after) >= VICTIM_FRAMES - 5  # the stream went on to the end of its file
    assert stats["victim"].error is None and stats["victim"].frames_analyzed >= VICTIM_FRAMES
    expected = threads_run[0].records("verdict")
    got = sinks.records("verdict")
    assert_same_verdicts(windows(got, "two"), windows(expected, "two"))
    assert_same_verdicts(windows(got, "one"), windows(expected, "one"))


@pytest.fixture(scope="module")
def six_second_clip(tmp_path_factory):
    from realtime.sources.demo import render_face_frames, write_video

    frames = render_face_frames(50)
    return write_video(tmp_path_factory.mktemp("clips") / "six_seconds.mp4", frames + frames[::-1] + frames)


def test_a_killed_inference_actor_is_restarted_and_every_stream_resumes(six_second_clip, small_checkpoint, local_ray):
    from services.multistream.ray_backend import RayStreams

    # Paced like live feeds of 6 s, and the actor is killed once every stream has had a verdict: every stream
    # is then still running, so every one must rejoin the new actor (none can have ended before the kill).
    files = [
        StreamSettings("one", str(six_second_clip)),
        StreamSettings("two", str(six_second_clip), detect_every=3),
        StreamSettings("three", str(six_second_clip)),
    ]
    length = 150
    loaded = load_model(small_checkpoint)
    killed = threading.Event()
    scored: set[str] = set()
    runner = None

    def kill_inference_once_every_stream_is_scored(verdict):
        scored.add(verdict.source)
        if scored == {"one", "two", "three"} and not killed.is_set():
            killed.set()
            local_ray.kill(runner.inference[0], no_restart=False)

    sinks = RecordingSinks(files, loaded, kill_inference_once_every_stream_is_scored)
    runner = RayStreams(files, loaded, engine_config(realtime=True), sinks)
    stats = run(runner, sinks)
    assert killed.is_set()
    rejoined = {r["stream"]: r["resume_frame"] for r in sinks.records("status") if r["event"] == "inference_restarted"}
    assert rejoined.keys() == {"one", "two", "three"}
    verdicts = sinks.records("verdict")
    for name in rejoined:
        assert stats[name].error is None and stats[name].frames_analyzed == length
        assert stats[name].frames_dropped == 0
        assert runner.restarts(name) == 0  # the stream actors lived on
        resume_frame = rejoined[name]
        mine = [v for v in verdicts if v["stream"] == name]
        after = [v for v in mine if v["first_frame"] >= resume_frame]
        # No window mixes crops scored by the dead actor and by its successor.
        assert all(v["last_frame"] < resume_frame or v["first_frame"] >= resume_frame for v in mine)
        assert after and max(v["last_frame"] for v in after) >= length - 5  # verdicts went on to the end


def test_a_stream_actor_reconnects_its_camera_and_its_statuses_reach_the_driver(
    one_face_clip, small_checkpoint, local_ray
):
    from services.multistream.ray_backend import RayStreams

    server = RtspServer(one_face_clip, user="viewer", password=PASSWORD, loop=True)
    server.start()
    masked = f"rtsp://***@127.0.0.1:{server.port}/stream"
    streams = [StreamSettings("cam", server.url_with_credentials())]
    scored, reconnecting, reconnected, scored_again = (threading.Event() for _ in range(4))

    class Sinks(RecordingSinks):
        def verdict(self, verdict):
            super().verdict(verdict)
            (scored_again if reconnected.is_set() else scored).set()

        def status(self, name, status):
            super().status(name, status)
            {"reconnecting": reconnecting, "reconnected": reconnected}.get(status.event, threading.Event()).set()

    sinks = Sinks(streams, load_model(small_checkpoint))
    # Four attempts (0.5 + 1 + 2 + 4 s apart): time enough for the server to come back.
    runner = RayStreams(streams, load_model(small_checkpoint), engine_config(reconnect_attempts=4), sinks)
    runner.start()
    try:
        assert scored.wait(120), "the camera was never scored"
        server.kill()
        assert reconnecting.wait(30), "the stream actor did not notice the outage"
        server.start()  # same port
        assert reconnected.wait(30) and scored_again.wait(30), "no verdict after the reconnect"
    finally:
        runner.stop()
        runner.wait()
        runner.close()
        server.stop()
    assert runner.error is None and runner.restarts("cam") == 0  # the actor reconnected; it was not restarted
    stats = runner.stats()["cam"]
    assert stats.reconnects == 1 and len(stats.outages) == 1 and stats.error is None
    statuses = sinks.records("status")
    assert [r["event"] for r in statuses if r["event"] == "reconnected"] == ["reconnected"]
    assert {r["source"] for r in statuses} == {masked}
    output = sinks.out.getvalue()
    assert PASSWORD not in output and "viewer" not in output
