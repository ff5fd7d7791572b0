"""When a face has stayed above the threshold long enough to alert, and the optional command hook (no Qt)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from realtime.frames import Verdict


@dataclass(frozen=True)
class Alert:
    """A face scored at or above the threshold for at least the hold time."""

    source: str
    track_id: int
    since_pts_s: float  # stream time the face first went above the threshold in this episode
    at_pts_s: float  # stream time of the window that completed the hold
    p_fake: float
    frame_index: int  # last frame of that window
    raised_at: float  # time.time() when it fired


class AlertMonitor:
    """Fires one alert per episode of a face staying at or above the threshold for ``hold_s`` of stream time.

    An episode starts with a face's first window at or above the threshold (timed from that
    window's end) and ends with its first window below it.
    """

    def __init__(self, threshold: float, hold_s: float) -> None:
        self.threshold = threshold
        self.hold_s = hold_s
        self._above_since: dict[int, float] = {}
        self._fired: set[int] = set()

    def observe(self, verdict: Verdict) -> Alert | None:
        """Feeds one verdict (in order per track); returns the alert it completes, if any."""
        track_id = verdict.track_id
        if verdict.p_fake < self.threshold:
            self._above_since.pop(track_id, None)
            self._fired.discard(track_id)
            return None
        since = self._above_since.setdefault(track_id, verdict.end_pts_s)
        if track_id in self._fired or verdict.end_pts_s - since < self.hold_s:
            return None
        self._fired.add(track_id)
        return Alert(
            verdict.source, track_id, since, verdict.end_pts_s, verdict.p_fake, verdict.last_frame, time.time()
        )


def run_alert_command(command: Sequence[str], alert: Alert) -> subprocess.Popen:
    """Starts ``command`` (no shell) with the alert in DEEPFAKE_ALERT_* environment variables; does not wait.

    A daemon thread reaps the process so no zombie is left; its output goes where ours goes.
    """
    env = dict(os.environ)
    env.update(
        DEEPFAKE_ALERT_SOURCE=alert.source,
        DEEPFAKE_ALERT_TRACK_ID=str(alert.track_id),
        DEEPFAKE_ALERT_P_FAKE=f"{alert.p_fake:.4f}",
        DEEPFAKE_ALERT_SINCE_S=f"{alert.since_pts_s:.3f}",
        DEEPFAKE_ALERT_AT_S=f"{alert.at_pts_s:.3f}",
    )
    process = subprocess.Popen(list(command), env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    threading.Thread(target=process.wait, name="alert-command", daemon=True).start()
    return process
