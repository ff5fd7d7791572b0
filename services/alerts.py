"""The one alert policy of the window and of ``--streams``, and the runner of alert commands.

An *episode* of a face is a run of its consecutive windows at or above the threshold. An alert
fires once the episode has lasted ``min_windows`` windows and ``hold_s`` seconds of stream time,
at most once per ``cooldown_s`` of stream time per source; a face that stays suspicious alerts
again every ``repeat_s`` (None: once per episode). Stream time rather than the wall clock, so a
file scanned faster than real time alerts exactly where a live run of it would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from realtime.frame_queue import BoundedQueue, DropPolicy
from realtime.frames import Verdict
from realtime.verdicts import Judgement, percent, rounded

ALERT_COMMAND_TIMEOUT_S = 30.0
ALERT_QUEUE_SIZE = 16  # alert commands waiting to run; the oldest are dropped (and counted) past this


@dataclass(frozen=True)
class AlertRule:
    """When a face raises an alert."""

    threshold: float
    min_windows: int = 1  # consecutive windows of one face at or above the threshold
    hold_s: float = 0.0  # stream time from the episode's first window to the one that completes it
    cooldown_s: float = 0.0  # after an alert, no other alert of the same source for this long
    repeat_s: float | None = None  # an ongoing episode alerts again after this long; None: once per episode


@dataclass(frozen=True)
class Alert:
    """A face that stayed at or above the threshold as the rule asks."""

    source: str
    track_id: int
    since_pts_s: float  # stream time the face first went above the threshold in this episode
    at_pts_s: float  # stream time of the window that completed the alert
    p_fake: float
    frame_index: int  # last frame of that window
    windows: int  # consecutive windows at or above the threshold so far
    raised_at: float  # time.time() when it fired

    def environment(self) -> dict[str, str]:
        """The DEEPFAKE_ALERT_* variables an alert command gets."""
        return {
            "DEEPFAKE_ALERT_SOURCE": self.source,
            "DEEPFAKE_ALERT_TRACK_ID": str(self.track_id),
            "DEEPFAKE_ALERT_P_FAKE": f"{self.p_fake:.4f}",
            "DEEPFAKE_ALERT_SINCE_S": f"{self.since_pts_s:.3f}",
            "DEEPFAKE_ALERT_AT_S": f"{self.at_pts_s:.3f}",
        }


def alert_text(alert: Alert) -> str:
    """One line a person reads: ``face #1 suspicious since 12.4 s, 3 windows in a row (89%)``."""
    windows = f"{alert.windows} window{'' if alert.windows == 1 else 's'}{' in a row' if alert.windows > 1 else ''}"
    return f"face #{alert.track_id} suspicious since {alert.since_pts_s:.1f} s, {windows} ({percent(alert.p_fake)})"


def alert_record(alert: Alert, judgement: Judgement) -> dict:
    """What an alert command of the window gets on stdin: the alert, its text, the source's verdict so far."""
    return {
        **asdict(alert),
        "p_fake": rounded(alert.p_fake),
        "text": alert_text(alert),
        "verdict": judgement.verdict,
        "headline": judgement.headline,
    }


@dataclass
class _Episode:
    since_pts_s: float
    windows: int = 0
    alerted_at_s: float | None = None


@dataclass
class AlertPolicy:
    """Applies one :class:`AlertRule` to the verdicts of one source (fed in order per face)."""

    rule: AlertRule
    _episodes: dict[int, _Episode] = field(default_factory=dict)
    _last_alert_s: float | None = None

    def observe(self, verdict: Verdict) -> Alert | None:
        """Feeds one verdict; returns the alert it completes, if any."""
        track_id, now_s = verdict.track_id, verdict.end_pts_s
        if verdict.p_fake < self.rule.threshold:
            self._episodes.pop(track_id, None)
            return None
        episode = self._episodes.setdefault(track_id, _Episode(now_s))
        episode.windows += 1
        if episode.windows < self.rule.min_windows or now_s - episode.since_pts_s < self.rule.hold_s:
            return None
        if episode.alerted_at_s is not None and (
            self.rule.repeat_s is None or now_s - episode.alerted_at_s < self.rule.repeat_s
        ):
            return None
        if self._last_alert_s is not None and now_s - self._last_alert_s < self.rule.cooldown_s:
            return None
        episode.alerted_at_s = self._last_alert_s = now_s
        return Alert(
            verdict.source,
            track_id,
            episode.since_pts_s,
            now_s,
            verdict.p_fake,
            verdict.last_frame,
            episode.windows,
            time.time(),
        )


class AlertCommands(threading.Thread):
    """Runs alert commands one after another off the analysis threads.

    Each command gets its alert as JSON on stdin and in DEEPFAKE_ALERT_* environment variables;
    its own output goes to stderr (stdout carries only JSON lines).
    """

    def __init__(self) -> None:
        super().__init__(name="alert-commands", daemon=True)
        self.queue = BoundedQueue[tuple[str, tuple[str, ...], str, dict[str, str]]](
            ALERT_QUEUE_SIZE, DropPolicy.KEEP_NEWEST
        )
        self.failures = 0

    def submit(self, command: Sequence[str], alert: Alert, record: dict | None = None) -> None:
        """Queues ``command`` for ``alert`` (the thread starts with the first); ``record`` is the JSON sent on
        stdin (default: the alert itself)."""
        payload = json.dumps(record if record is not None else asdict(alert))
        if not self.is_alive() and self.ident is None:
            self.start()
        self.queue.put((alert.source, tuple(command), payload, alert.environment()))

    def run(self) -> None:
        while (job := self.queue.get()) is not None:
            source, argv, payload, variables = job
            try:
                done = subprocess.run(
                    argv,
                    input=payload,
                    text=True,
                    stdout=sys.stderr,
                    env={**os.environ, **variables},
                    timeout=ALERT_COMMAND_TIMEOUT_S,
                    check=False,
                )
                problem = f"exit status {done.returncode}" if done.returncode else None
            except (OSError, subprocess.TimeoutExpired) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem:
                self.failures += 1
                print(f"warning: alert command for {source} failed: {problem}", file=sys.stderr, flush=True)

    def close(self, timeout_s: float = ALERT_COMMAND_TIMEOUT_S) -> None:
        """Runs what is queued (within ``timeout_s``), then ends."""
        self.queue.close()
        if self.ident is not None:
            self.join(timeout_s)
