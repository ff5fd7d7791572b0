"""Run the GStreamer RTSP test server (``rtsp_server.py``) from tests in the project's venv.

The server needs Debian's python3-gi and GStreamer packages (``.ci/apt-packages.txt``),
so it runs under the system interpreter in a subprocess; nothing here imports gi.
"""

from __future__ import annotations

import functools
import selectors
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote, urlsplit

SYSTEM_PYTHON = Path("/usr/bin/python3")
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
READY_PREFIX = "READY "
PROBE_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0
REQUIRED_ELEMENTS = ("filesrc", "qtdemux", "appsink", "appsrc", "rtph264pay")
_PROBE = f"""
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstApp, GstRtspServer
Gst.init(None)
missing = [e for e in {REQUIRED_ELEMENTS!r} if Gst.ElementFactory.find(e) is None]
if missing:
    raise SystemExit("missing GStreamer elements: " + ", ".join(missing))
"""


@functools.cache
def rtsp_server_unavailable_reason() -> str | None:
    """Return None if the system python can run the RTSP server, else a one-line reason."""
    if not SYSTEM_PYTHON.is_file():
        return f"{SYSTEM_PYTHON} not found"
    try:
        probe = subprocess.run(
            [str(SYSTEM_PYTHON), "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"cannot run {SYSTEM_PYTHON}: {error}"
    if probe.returncode == 0:
        return None
    lines = probe.stderr.strip().splitlines()
    detail = lines[-1] if lines else f"exit status {probe.returncode}"
    return f"GStreamer RTSP server unusable ({detail}); install .ci/apt-packages.txt"


def require_rtsp_server() -> None:
    """Skips the calling test where the RTSP server cannot run; in CI (CI set) that is a failure."""
    import os

    import pytest

    reason = rtsp_server_unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide the RTSP test server: {reason}")
        pytest.skip(reason)


class RtspServer:
    """The file's H.264 video served on rtsp://127.0.0.1:<free port><path> by a subprocess.

    Use as a context manager; ``url`` (without credentials) is set once the server
    reports that it is listening. Every client connection starts at the first frame.
    """

    def __init__(
        self,
        video_path: Path,
        *,
        path: str = "/stream",
        user: str | None = None,
        password: str | None = None,
        loop: bool = False,
        port: int = 0,
        ready_timeout_s: float = 15.0,
    ) -> None:
        """Describe the server; nothing starts until ``start()`` or ``__enter__``."""
        if (user is None) != (password is None):
            raise ValueError("user and password go together")
        self.video_path = Path(video_path)
        self.path = path
        self.user = user
        self.password = password
        self.loop = loop
        self.port = port
        self.ready_timeout_s = ready_timeout_s
        self._url: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """The stream URL without credentials, e.g. ``rtsp://127.0.0.1:41234/stream``."""
        if self._url is None:
            raise RuntimeError("RTSP server is not running")
        return self._url

    def url_with_credentials(self) -> str:
        """The stream URL with the user and password (percent-encoded), if any."""
        if self.user is None or self.password is None:
            return self.url
        userinfo = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@"
        return self.url.replace("rtsp://", f"rtsp://{userinfo}", 1)

    def start(self) -> None:
        """Start the server and wait until it listens; raise RuntimeError if it does not."""
        if self._process is not None:
            raise RuntimeError("RTSP server already started")
        command = [
            str(SYSTEM_PYTHON),
            "-I",
            str(SERVER_SCRIPT),
            "--file",
            str(self.video_path),
            "--port",
            str(self.port),
            "--path",
            self.path,
        ]
        if self.user is not None and self.password is not None:
            command += ["--user", self.user, "--password", self.password]
        if self.loop:
            command.append("--loop")
        # A file, not a pipe, so a chatty server can never block on an unread stderr.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives until stop())
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        try:
            self._url = self._wait_ready(self._process)
            self.port = urlsplit(self._url).port or self.port  # a restart comes back on the same port
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, process: subprocess.Popen[str]) -> str:
        """Return the URL from the server's READY line, waiting at most ready_timeout_s."""
        if process.stdout is None:
            raise RuntimeError("RTSP server stdout is not a pipe")
        deadline = time.monotonic() + self.ready_timeout_s
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while True:
                remaining_s = deadline - time.monotonic()
                if remaining_s <= 0 or not selector.select(remaining_s):
                    raise RuntimeError(f"RTSP server not ready after {self.ready_timeout_s} s: {self._stderr_text()}")
                line = process.stdout.readline()
                if not line:
                    status = process.wait(timeout=STOP_TIMEOUT_S)
                    raise RuntimeError(f"RTSP server exited with status {status}: {self._stderr_text()}")
                if line.startswith(READY_PREFIX):
                    return line[len(READY_PREFIX) :].strip()

    def _stderr_text(self) -> str:
        """What the server has written to stderr so far."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), as a crash would; ``start()`` brings it back."""
        if self._process is not None:
            self._process.kill()
        self.stop()

    def freeze(self, frozen: bool) -> None:
        """Stall the server without closing its connections (SIGSTOP), or let it go on (SIGCONT)."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)

    def stop(self) -> None:
        """Terminate the server and wait for it (killing it after a timeout); idempotent."""
        process, self._process, self._url = self._process, None, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> RtspServer:
        """Start the server (see ``start``)."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()
