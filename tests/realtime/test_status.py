"""Typed stream status: one record and one warning line per event, whichever output shows it."""

from realtime.output import status_record
from realtime.status import Severity, StreamStatus, reconnected, reconnecting, status_warning


def test_status_events_carry_a_severity_and_only_their_own_fields():
    gone = reconnecting(attempt=2, retry_in_s=1.0, reason="read timeout", at_s=12.5)
    assert status_record(gone, "rtsp://cam/1") == {
        "type": "status",
        "source": "rtsp://cam/1",
        "event": "reconnecting",
        "severity": "warning",
        "at_s": 12.5,
        "reason": "read timeout",
        "attempt": 2,
        "retry_in_s": 1.0,
    }
    back = reconnected(outage_s=3.25, at_s=15.75)
    assert back.record() == {"event": "reconnected", "severity": "info", "at_s": 15.75, "outage_s": 3.25}


def test_warnings_name_the_stream_and_info_events_need_none():
    assert status_warning("lobby", reconnecting(1, 0.5, "end of stream", 3.0)) == (
        "warning: lobby: end of stream; reconnecting in 0.5 s"
    )
    assert status_warning("lobby", reconnected(1.0, 4.0)) is None
    restarted = StreamStatus("restarted", Severity.WARNING, incarnation=2, resume_frame=300)
    assert status_warning("door", restarted) == "warning: door: restarted"
