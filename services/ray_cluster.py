"""Joining Ray for ``--backend ray``: a local Ray, or a cluster at an address that must answer promptly.

``ray.init(address=...)`` keeps retrying a GCS that does not answer: measured with Ray 2.60 on a
closed port it was still trying after two minutes, ignored SIGTERM meanwhile, and
``RAY_gcs_server_request_timeout_seconds`` did not shorten it. So the address is first probed with
a plain TCP connect bounded by :data:`PROBE_TIMEOUT_S` (an unreachable cluster is one clear error
line within seconds), and ``ray.init`` itself runs under a watchdog for what the probe cannot see
(a port that accepts connections but is not a Ray GCS).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common.errors import first_line
from common.exit_codes import EXIT_FAILED, print_error
from common.urls import mask_url

PROBE_TIMEOUT_S = 5.0  # TCP connect to the cluster's GCS (or Ray Client server)
INIT_TIMEOUT_S = 60.0  # ray.init after a successful probe; past it the process ends with one error line
DEFAULT_GCS_PORT = 6379  # `ray start --head` default
DEFAULT_CLIENT_PORT = 10001  # Ray Client (ray://) default
PROJECT_ROOT = Path(__file__).resolve().parents[1]
CODE_EXCLUDES = ["__pycache__", "*.pt", "*.onnx", "*.mp4"]


class ClusterUnreachable(ConnectionError):
    """No Ray cluster answers at the address given."""


def runtime_env(address: str | None) -> dict[str, Any]:
    """How Ray workers find this project's code: the checkout locally, uploaded modules on a cluster."""
    env_vars = {"OMP_WAIT_POLICY": "PASSIVE"}  # busy-waiting OpenMP threads starve a shared CPU
    if address is None:
        pythonpath = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        return {"env_vars": {**env_vars, "PYTHONPATH": pythonpath}}
    modules = [str(PROJECT_ROOT / "realtime"), str(PROJECT_ROOT / "models")]
    return {"env_vars": env_vars, "py_modules": modules, "excludes": CODE_EXCLUDES}


def bootstrap_endpoint(address: str) -> tuple[str, int] | None:
    """The (host, port) that ``address`` names; None for ``auto`` without ``RAY_ADDRESS`` (Ray looks itself).

    Accepts ``host``, ``host:port``, ``[ipv6]:port`` and ``ray://host[:port]``; ValueError otherwise.
    """
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS", "")
        if address in ("", "auto"):
            return None
    scheme, _, rest = address.rpartition("://")
    try:
        parts = urlsplit(f"//{rest}")
        host, port, extra = parts.hostname, parts.port, parts.path or parts.query
    except ValueError:
        host, port, extra = None, None, ""
    if not host or extra:
        raise ValueError(f"not a Ray address: {mask_url(address)} (expected HOST:PORT, auto or ray://HOST:PORT)")
    return host, port or (DEFAULT_CLIENT_PORT if scheme == "ray" else DEFAULT_GCS_PORT)


def shown(host: str, port: int) -> str:
    """``host:port`` as a user writes it (IPv6 hosts in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def probe(host: str, port: int, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Raises ClusterUnreachable unless a TCP connection to ``host:port`` opens within ``timeout_s``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or type(exc).__name__
        raise ClusterUnreachable(f"cannot reach the Ray cluster at {shown(host, port)} ({reason})") from None


@contextmanager
def exit_if_stuck(seconds: float, message: str) -> Iterator[None]:
    """Within the block, a call that never returns ends the process after ``seconds``: ``error: message``, exit 1.

    For calls that cannot be interrupted (``ray.init`` blocked in Ray's C++ core ignores signals).
    """
    done = threading.Event()

    def watch() -> None:
        if not done.wait(seconds):
            print_error(message)
            os._exit(EXIT_FAILED)

    threading.Thread(target=watch, name="ray-connect-watchdog", daemon=True).start()
    try:
        yield
    finally:
        done.set()


def connect(address: str | None) -> bool:
    """Connects to Ray (a new local one when ``address`` is None); True when this call started the connection.

    Raises ClusterUnreachable (one line, credentials masked) when nothing answers at ``address`` or
    Ray fails to start or join, and ValueError for a malformed address. A cluster that accepts the
    connection but does not let ``ray.init`` finish within :data:`INIT_TIMEOUT_S` ends the process
    with one error line.
    """
    import ray

    if ray.is_initialized():
        return False
    if address is None:
        try:
            ray.init(include_dashboard=False, runtime_env=runtime_env(None))
        except (ConnectionError, RuntimeError, TimeoutError) as exc:
            raise ClusterUnreachable(f"cannot start a local Ray: {first_line(exc)}") from None
        return True
    endpoint = bootstrap_endpoint(address)
    if endpoint is not None:
        probe(*endpoint)
    where = shown(*endpoint) if endpoint else mask_url(address)
    try:
        with exit_if_stuck(INIT_TIMEOUT_S, f"the Ray cluster at {where} did not answer within {INIT_TIMEOUT_S:.0f} s"):
            ray.init(address=address, runtime_env=runtime_env(address))
    except ClusterUnreachable:
        raise
    except (ConnectionError, RuntimeError, TimeoutError) as exc:
        raise ClusterUnreachable(f"cannot run on Ray at {where}: {first_line(exc)}") from None
    return True
