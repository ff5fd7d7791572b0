"""Typed status events of a stream (reconnecting, reconnected, restarted, ...), as verdicts are typed.

Sources and the Ray actors report what happens to a stream with :class:`StreamStatus`; every output
turns it into its JSON record (:meth:`StreamStatus.record`) and, for warnings, the one stderr line
(:func:`status_warning`), so the headless run, ``--streams`` and the grid say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a status event matters to the person watching."""

    INFO = "info"  # the stream is fine again, or a step went as planned
    WARNING = "warning"  # analysis is interrupted or degraded but goes on
    ERROR = "error"  # the stream is lost


@dataclass(frozen=True)
class StreamStatus:
    """One status event of one stream; fields that do not apply to the event stay None."""

    event: str  # reconnecting | reconnected | restarted | rejoined | gave_up
    severity: Severity
    at_s: float | None = None  # seconds since the stream started
    reason: str | None = None  # why the stream broke (a masked one-line message)
    attempt: int | None = None  # reconnect attempt number (1-based)
    retry_in_s: float | None = None  # wait before the next attempt
    outage_s: float | None = None  # how long the stream was gone
    incarnation: int | None = None  # Ray: which restart of the inference actor this is
    resume_frame: int | None = None  # Ray: the frame analysis resumes from

    def record(self) -> dict[str, Any]:
        """The JSON fields of the event (``type`` and the stream's name are added by the output)."""
        record: dict[str, Any] = {"event": self.event, "severity": self.severity.value}
        for name in ("at_s", "reason", "attempt", "retry_in_s", "outage_s", "incarnation", "resume_frame"):
            value = getattr(self, name)
            if value is not None:
                record[name] = value
        return record


StatusCallback = Callable[[StreamStatus], None]


def reconnecting(attempt: int, retry_in_s: float, reason: str, at_s: float) -> StreamStatus:
    return StreamStatus("reconnecting", Severity.WARNING, at_s=at_s, reason=reason, attempt=attempt,
                        retry_in_s=retry_in_s)  # fmt: skip


def reconnected(outage_s: float, at_s: float) -> StreamStatus:
    return StreamStatus("reconnected", Severity.INFO, at_s=at_s, outage_s=outage_s)


def status_warning(stream: str, status: StreamStatus) -> str | None:
    """The stderr line a status event deserves (None for events that need no attention)."""
    if status.event == "reconnecting":
        return f"warning: {stream}: {status.reason}; reconnecting in {status.retry_in_s} s"
    if status.severity is not Severity.INFO:
        return f"warning: {stream}: {status.event}" + (f": {status.reason}" if status.reason else "")
    return None
