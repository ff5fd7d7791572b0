"""Tagged JSON lines, per-stream thresholds, alerts with their command, the status table."""

import io
import json
import sys

import pytest

from realtime.frames import Verdict
from realtime.output import JsonLinesWriter
from realtime.status import reconnected
from services.alerts import AlertPolicy
from services.multistream.config import AlertSettings, StreamSettings
from services.multistream.sinks import StreamSinks, alert_rule
from services.multistream.status import RECENT_S, StatusBoard


def verdict(source, p_fake, track_id=1, last_frame=10, at_s=0.4):
    return Verdict(source, track_id, last_frame - 7, last_frame, at_s - 0.3, at_s, 8, p_fake, "fake", 30.0)


def test_alert_needs_consecutive_windows_and_respects_the_cooldown():
    policy = AlertPolicy(alert_rule(AlertSettings(min_windows=3, cooldown_s=10.0), threshold=0.5))

    def windows_above(p_fake: float, at_s: float, track_id: int = 1) -> int:
        alert = policy.observe(verdict("a", p_fake, track_id, at_s=at_s))
        return alert.windows if alert else 0

    assert [windows_above(p, 0.1 * i) for i, p in enumerate((0.6, 0.7, 0.2, 0.6, 0.6))] == [0, 0, 0, 0, 0]
    assert windows_above(0.9, 1.0) == 3
    assert windows_above(0.9, 5.0) == 0  # still suspicious, but cooling down
    assert windows_above(0.9, 12.0, track_id=2) == 0  # another face starts its own count
    assert windows_above(0.9, 12.0) == 5  # the same face, still suspicious, alerts again after the cooldown


def test_lines_are_tagged_labelled_per_stream_and_alerts_run_their_command(tmp_path):
    received = tmp_path / "alert.json"
    command = (sys.executable, "-c", f"import sys; open({str(received)!r}, 'w').write(sys.stdin.read())")
    streams = [
        StreamSettings("lobby", "rtsp://viewer:s3cret@cam/main", threshold=0.8),
        StreamSettings("door", "door.mp4", alert=AlertSettings(min_windows=2, cooldown_s=60.0, command=command)),
    ]
    out = io.StringIO()
    sinks = StreamSinks(streams, JsonLinesWriter(out), trained=True, engine_threshold=0.5)
    sinks.verdict(verdict("lobby", 0.7))
    sinks.verdict(verdict("door", 0.7))
    sinks.verdict(verdict("door", 0.6, last_frame=13))
    sinks.status("lobby", reconnected(outage_s=1.0, at_s=5.0))
    sinks.close()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["type"], r["stream"]) for r in records] == [
        ("verdict", "lobby"),
        ("verdict", "door"),
        ("verdict", "door"),
        ("alert", "door"),
        ("status", "lobby"),
    ]
    assert [r.get("label") for r in records[:3]] == ["real", "fake", "fake"]  # lobby's own threshold is 0.8
    assert records[0]["source"] == "rtsp://***@cam/main" and "s3cret" not in out.getvalue()
    alert = records[3]
    assert (alert["track_id"], alert["windows_above"], alert["last_frame"], alert["threshold"]) == (1, 2, 13, 0.5)
    assert json.loads(received.read_text()) == alert


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_status_table_shows_fps_latency_faces_max_p_fake_and_alerts():
    clock = FakeClock()
    board = StatusBoard(["lobby", "door"], clock=clock)
    board.render()
    for _ in range(30):
        board.frame_analyzed("lobby", faces=2)
    board.verdict(verdict("lobby", 0.25, track_id=1))
    board.verdict(verdict("lobby", 0.75, track_id=2))
    board.alert("lobby")
    board.state("door", "reconnecting")
    clock.now += 2.0
    header, lobby, door = board.render().splitlines()
    columns = ["stream", "state", "fps", "latency_ms", "faces", "max_p_fake", "alerts", "verdict", "so", "far"]
    assert header.split() == columns
    name, state, fps, latency, faces, p_fake, alerts, verdict_so_far = lobby.split()
    assert (name, state, fps, latency, faces, p_fake, alerts) == ("lobby", "running", "15.0", "30", "2", "0.750", "1")
    assert verdict_so_far == "-"  # a board without sinks has no judge
    assert door.split()[:3] == ["door", "reconnecting", "0.0"] and door.split()[-3:] == ["-", "0", "-"]


def test_fps_counts_frames_between_two_measures_and_scores_go_stale():
    clock = FakeClock()
    board = StatusBoard(["lobby"], clock=clock)
    assert board.snapshot()["lobby"].fps == 0.0  # the first measure has nothing to compare with
    for _ in range(10):
        board.frame_analyzed("lobby", faces=1)
    board.verdict(verdict("lobby", 0.6))
    clock.now += 0.5
    assert board.snapshot()["lobby"].fps == 20.0
    for _ in range(3):
        board.frame_analyzed("lobby", faces=1)
    clock.now += 0.001
    # A refresh out of turn keeps the last rate: three frames in a millisecond are not 3000 fps.
    figures = board.snapshot(measure_fps=False)["lobby"]
    assert figures.fps == 20.0 and figures.max_p_fake == 0.6
    clock.now += 0.499
    assert board.snapshot()["lobby"].fps == pytest.approx(6.0)  # 3 frames over the half second since the last measure
    clock.now += RECENT_S + 0.1
    assert board.snapshot()["lobby"].max_p_fake is None  # no face scored for a couple of seconds
    assert board.track_scores("lobby") == {1: 0.6}  # the boxes keep their newest score


def test_an_alert_is_counted_on_the_board_before_anyone_reads_its_line():
    # The grid hears of an alert as its line is written (ui.grid_feed.AlertTap) and reads the board on its own
    # thread: the board must count the alert first, or the tile turns red while its figures say "0 alerts".
    events = []

    class Board(StatusBoard):
        def alert(self, name):
            super().alert(name)
            events.append("counted")

    class Writer(JsonLinesWriter):
        def write(self, record):
            super().write(record)
            events.append(record["type"])

    streams = [StreamSettings("door", "door.mp4", alert=AlertSettings(min_windows=1))]
    board = Board(["door"])
    sinks = StreamSinks(streams, Writer(io.StringIO()), trained=True, engine_threshold=0.5, board=board)
    sinks.verdict(verdict("door", 0.9))
    assert events == ["verdict", "counted", "alert"]
    assert sinks.alert_counts["door"] == 1 and board.snapshot()["door"].alerts == 1


def test_the_table_and_alerts_say_each_streams_verdict_so_far_with_the_one_rule(tmp_path):
    streams = [
        StreamSettings("lobby", "lobby.mp4", threshold=0.8, alert=AlertSettings(min_windows=1)),
        StreamSettings("door", "door.mp4", threshold=0.8),
    ]
    out = io.StringIO()
    board = StatusBoard(["lobby", "door"])
    sinks = StreamSinks(streams, JsonLinesWriter(out), trained=True, engine_threshold=0.5, board=board)
    sinks.verdict(verdict("lobby", 0.2, at_s=0.4))
    sinks.verdict(verdict("lobby", 0.9, last_frame=40, at_s=1.6))  # one window reached 0.8; the mean did not
    sinks.verdict(verdict("door", 0.3))
    figures = board.snapshot()
    assert figures["lobby"].judgement.verdict == "uncertain" and figures["door"].judgement.verdict == "real"
    assert figures["lobby"].judgement.headline == "Uncertain: 1 suspicious moment (max 90%)"
    assert figures["lobby"].video_p_fake == 0.55
    table = board.render()
    assert "Uncertain: 1 suspicious moment (max 90%)" in table and "Likely real" in table
    alert = next(json.loads(line) for line in out.getvalue().splitlines() if '"alert"' in line)
    assert (alert["verdict"], alert["headline"]) == ("uncertain", "Uncertain: 1 suspicious moment (max 90%)")
    assert alert["text"] == "face #1 suspicious since 1.6 s, 1 window (90%)"
    sinks.close()
