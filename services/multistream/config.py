"""streams.yaml: the list of streams to watch, loaded and validated with one-line errors.

```yaml
- name: lobby                      # unique; letters, digits, '.', '_' or '-'; tags every output line
  source: rtsp://user:pw@cam1/main # anything --source takes; relative paths start at this file's folder
  threshold: 0.6                   # optional: p_fake threshold of this stream (default: the engine's)
  detect_every: 3                  # optional: face detector every N frames (default: the engine's)
  alert:                           # optional: raise an alert when one face stays at/above the threshold
    min_windows: 3                 #   consecutive windows of one face at or above the threshold (default 3)
    cooldown_s: 30                 #   at most one alert per stream in this many seconds (default 30)
    command: notify-me --stream lobby  # optional: run with the alert as JSON on stdin (string or list)
```
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from realtime.sources.factory import names_live_source

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
STREAM_KEYS = ("name", "source", "threshold", "detect_every", "alert")
ALERT_KEYS = ("min_windows", "cooldown_s", "command")


class StreamsConfigError(Exception):
    """streams.yaml is missing, unreadable or invalid; the message is one line."""


@dataclass(frozen=True)
class AlertSettings:
    """When a stream raises an alert, and what runs then."""

    min_windows: int = 3  # consecutive windows of one face at or above the threshold
    cooldown_s: float = 30.0  # at most one alert per stream in this many seconds
    command: tuple[str, ...] = ()  # argv run with the alert record as JSON on stdin; empty: none


@dataclass(frozen=True)
class StreamSettings:
    """One stream of streams.yaml."""

    name: str
    source: str  # as given (may hold credentials: never print it, print ``masked source`` instead)
    threshold: float | None = None  # None: the engine's threshold
    detect_every: int | None = None  # None: the engine's
    alert: AlertSettings | None = None


def load_streams(path: Path) -> list[StreamSettings]:
    """Reads and validates streams.yaml; raises StreamsConfigError with a one-line message."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise StreamsConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise StreamsConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    return parse_streams(document, str(path), Path(path).parent)


def parse_streams(document: Any, origin: str, base_dir: Path) -> list[StreamSettings]:
    """Validates a parsed streams document (``origin`` names it in errors)."""
    if not isinstance(document, list) or not document:
        raise StreamsConfigError(f"{origin}: expected a non-empty list of streams ({{name, source, ...}})")
    streams: list[StreamSettings] = []
    for position, item in enumerate(document, start=1):
        stream = _parse_stream(item, f"{origin}: stream {position}", base_dir)
        if any(other.name == stream.name for other in streams):
            raise StreamsConfigError(f"{origin}: stream {position}: name {stream.name!r} is used twice")
        streams.append(stream)
    return streams


def _parse_stream(item: Any, where: str, base_dir: Path) -> StreamSettings:
    if not isinstance(item, dict):
        raise StreamsConfigError(f"{where}: expected a mapping with name and source, got {_kind(item)}")
    name = item.get("name")
    valid_name = isinstance(name, str) and NAME_PATTERN.fullmatch(name) is not None
    if valid_name:
        where = f"{where} ({name})"
    _reject_unknown(item, STREAM_KEYS, where)  # first: a misspelt "name" is best reported as such
    if not valid_name:
        raise StreamsConfigError(
            f"{where}: name must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit), "
            f"got {name!r}"
        )
    source = item.get("source")
    if not isinstance(source, str) or not source.strip():
        raise StreamsConfigError(f"{where}: source is required (a file, rtsp/http URL, webcam:N or screen:)")
    threshold = item.get("threshold")
    if threshold is not None and (_not_number(threshold) or not 0.0 < threshold < 1.0):
        raise StreamsConfigError(f"{where}: threshold must be a number between 0 and 1 (exclusive), got {threshold!r}")
    detect_every = item.get("detect_every")
    if detect_every is not None and (not _is_int(detect_every) or detect_every < 1):
        raise StreamsConfigError(f"{where}: detect_every must be a whole number >= 1, got {detect_every!r}")
    alert = _parse_alert(item["alert"], f"{where}: alert") if "alert" in item else None
    return StreamSettings(name, _resolve(source.strip(), base_dir), threshold, detect_every, alert)


def _parse_alert(item: Any, where: str) -> AlertSettings:
    if item is None:
        return AlertSettings()
    if not isinstance(item, dict):
        raise StreamsConfigError(f"{where}: expected a mapping (min_windows, cooldown_s, command), got {_kind(item)}")
    _reject_unknown(item, ALERT_KEYS, where)
    defaults = AlertSettings()
    min_windows = item.get("min_windows", defaults.min_windows)
    if not _is_int(min_windows) or min_windows < 1:
        raise StreamsConfigError(f"{where}: min_windows must be a whole number >= 1, got {min_windows!r}")
    cooldown_s = item.get("cooldown_s", defaults.cooldown_s)
    if _not_number(cooldown_s) or cooldown_s < 0:
        raise StreamsConfigError(f"{where}: cooldown_s must be a number >= 0, got {cooldown_s!r}")
    command = item.get("command", "")
    if isinstance(command, str):
        try:
            argv = tuple(shlex.split(command))
        except ValueError as exc:
            raise StreamsConfigError(f"{where}: command cannot be split into arguments: {exc}") from None
    elif isinstance(command, list) and all(isinstance(part, str) for part in command):
        argv = tuple(command)
    else:
        raise StreamsConfigError(f"{where}: command must be a string or a list of strings, got {_kind(command)}")
    return AlertSettings(min_windows, float(cooldown_s), argv)


def _resolve(source: str, base_dir: Path) -> str:
    """Relative file paths start at the folder of streams.yaml, so the file works from anywhere."""
    if names_live_source(source) or Path(source).is_absolute():
        return source
    return str(base_dir / source)


def _reject_unknown(item: dict, allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(key) for key in item if key not in allowed)
    if unknown:
        raise StreamsConfigError(f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(allowed)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _not_number(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, int | float)


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
