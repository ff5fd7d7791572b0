"""Joining Ray: addresses, an unreachable cluster answered by one probe, flags that need each other."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from common.exit_codes import EXIT_USAGE
from services import ray_cluster
from services.ray_cluster import ClusterUnreachable, bootstrap_endpoint, probe
from tests.support.data import REPO_ROOT


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("address", "endpoint"),
    [
        ("10.0.0.5:6379", ("10.0.0.5", 6379)),
        ("head", ("head", 6379)),
        ("[::1]:7000", ("::1", 7000)),
        ("ray://head", ("head", 10001)),
        ("ray://head:2000", ("head", 2000)),
    ],
)
def test_addresses_name_the_host_and_port_to_probe(address, endpoint):
    assert bootstrap_endpoint(address) == endpoint


def test_auto_probes_ray_address_or_leaves_the_search_to_ray(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert bootstrap_endpoint("auto") is None
    monkeypatch.setenv("RAY_ADDRESS", "head:7000")
    assert bootstrap_endpoint("auto") == ("head", 7000)


@pytest.mark.parametrize("address", ["head:port", "head:6379/x", "ray://user:pw@:1", ""])
def test_malformed_addresses_are_refused_without_their_credentials(address):
    with pytest.raises(ValueError, match="not a Ray address") as caught:
        bootstrap_endpoint(address)
    assert "pw" not in str(caught.value)


def test_probe_fails_fast_on_a_closed_port(monkeypatch):
    # Fast as in one refused connection, with a short timeout, and no retry (not timed: counted).
    port = closed_port()
    attempts = []
    connect = socket.create_connection

    def create_connection(address, timeout):
        attempts.append((address, timeout))
        return connect(address, timeout=timeout)

    monkeypatch.setattr(ray_cluster.socket, "create_connection", create_connection)
    with pytest.raises(ClusterUnreachable, match=rf"^cannot reach the Ray cluster at 127\.0\.0\.1:{port} \("):
        probe("127.0.0.1", port)
    assert attempts == [(("127.0.0.1", port), ray_cluster.PROBE_TIMEOUT_S)] and ray_cluster.PROBE_TIMEOUT_S <= 5.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--backend", "ray", "--source", "clip.mp4"], "--backend ray runs --streams FILE or --scan"),
        (["--scan", "--source", "videos", "--address", "head:6379"], "--address names a Ray cluster"),
        (["--scan", "--streams", "s.yaml"], "--streams and --scan are exclusive"),
        (["--scan", "--source", "v", "--backend", "ray", "--address", "h:x"], "not a Ray address: h:x"),
    ],
)
def test_backend_flags_that_mean_nothing_together_are_one_line_usage_errors(argv, message, capsys):
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["scan", "streams"])
def test_an_unreachable_cluster_is_one_error_line_within_seconds(mode, one_face_clip, small_checkpoint, tmp_path):
    port = closed_port()
    if mode == "scan":
        (tmp_path / "videos").mkdir()
        (tmp_path / "videos" / "a.mp4").write_bytes(one_face_clip.read_bytes())
        what = ["--source", str(tmp_path / "videos"), "--scan"]
    else:
        streams = tmp_path / "streams.yaml"
        streams.write_text(f"- {{name: a, source: {one_face_clip}}}\n")
        what = ["--streams", str(streams), "--headless"]
    command = [sys.executable, str(REPO_ROOT / "run_live.py"), *what, "--model", str(small_checkpoint)]
    result = subprocess.run(
        [*command, "--backend", "ray", "--address", f"127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    errors = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
    assert result.returncode == 1 and result.stdout == ""
    # The probe's refusal, before ray.init (whose failures read "cannot run on Ray at", after up to INIT_TIMEOUT_S).
    assert errors == [f"error: cannot reach the Ray cluster at 127.0.0.1:{port} (Connection refused)"]
    assert not list(Path(tmp_path).rglob("*.deepfake.json"))
