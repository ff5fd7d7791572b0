"""Runs run_live.py as a long-lived subprocess and reads its JSON lines as they come."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.support.data import REPO_ROOT


class LiveProcess:
    """``run_live.py --headless ARGS`` with a reader thread collecting stdout records."""

    def __init__(self, *args: str) -> None:
        command = [sys.executable, str(REPO_ROOT / "run_live.py"), "--headless", "--threads", "1", *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT
        )
        self.records: list[dict[str, Any]] = []
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stderr_lines: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip():
                self._lines.put(json.loads(line))
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self._stderr_lines.extend(self.process.stderr)

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout_s: float) -> dict[str, Any]:
        """The next record matching ``predicate``; AssertionError on timeout or end of output."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            try:
                record = self._lines.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                raise AssertionError(f"no matching record within {timeout_s} s; got {self.records[-3:]}") from None
            if record is None:
                raise AssertionError(f"output ended without a matching record; last: {self.records[-3:]}")
            self.records.append(record)
            if predicate(record):
                return record

    def finish(self, timeout_s: float = 30.0, terminate: bool = True) -> tuple[int, str]:
        """Stops the process (SIGTERM unless it already ended), drains output; (exit code, stderr)."""
        if terminate and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=timeout_s)
        for reader in self._readers:
            reader.join(5.0)
        while (record := self._lines.get_nowait()) is not None:
            self.records.append(record)
        return self.process.returncode, "".join(self._stderr_lines)
