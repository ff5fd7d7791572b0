"""A static HTTP server on 127.0.0.1 in a thread, for HTTP and HLS stream tests."""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections import deque
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import av


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static files over HTTP/1.1 (a length for every body), with the faults a test queued for a path."""

    protocol_version = "HTTP/1.1"

    def __init__(
        self,
        *args: object,
        faults: dict[str, deque[str]],
        requests: list[str],
        paced: dict[str, float],
        **kwargs: object,
    ) -> None:
        self.faults = faults
        self.requests = requests
        self.paced = paced
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # handles the request

    def log_message(self, format: str, *args: object) -> None:  # tests need no access log
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.requests.append(path)
        queued = self.faults.get(path)
        fault = queued.popleft() if queued else None
        if fault == "reset":  # the server goes away before answering
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault == "cut" or path in self.paced:
            body = Path(self.translate_path(path)).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            cut = fault == "cut"  # ... or in the middle of the body it announced
            self._send(body[: len(body) // 3] if cut else body, len(body), self.paced.get(path))
            if cut:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
        else:
            super().do_GET()

    def _send(self, data: bytes, whole: int, seconds: float | None) -> None:
        """Writes ``data``; paced, at the rate that spreads the ``whole`` body over ``seconds``, as a live
        stream arrives (as fast as loopback allows, a live source's reader keeps only the newest frames)."""
        if seconds is None:
            self.wfile.write(data)
            self.wfile.flush()
            return
        chunk = max(1, int(whole / (20 * seconds)))  # 20 writes a second
        started = time.monotonic()
        for offset in range(0, len(data), chunk):
            self.wfile.write(data[offset : offset + chunk])
            self.wfile.flush()
            time.sleep(max(0.0, started + (offset + chunk) / whole * seconds - time.monotonic()))


class StaticHttpServer:
    """Serves ``root`` on http://127.0.0.1:<free port>/ until closed.

    ``fail(path, *faults)`` queues what the next requests of ``path`` get instead of the file: ``reset`` (the
    connection closes unanswered) or ``cut`` (a third of the body it announced, then the connection closes).
    ``pace(path, seconds)`` sends that file's body over ``seconds``, as a live stream arrives.
    ``requests`` lists every path asked for, in order.
    """

    def __init__(self, root: Path) -> None:
        self.faults: dict[str, deque[str]] = {}
        self.requests: list[str] = []
        self.paced: dict[str, float] = {}
        handler = functools.partial(
            _QuietHandler, directory=str(root), faults=self.faults, requests=self.requests, paced=self.paced
        )
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-test-server", daemon=True)

    def fail(self, path: str, *faults: str) -> None:
        self.faults.setdefault(path, deque()).extend(faults)

    def pace(self, path: str, seconds: float) -> None:
        self.paced[path] = seconds

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StaticHttpServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)


def remux_to_ts(video: Path, target: Path) -> Path:
    """Copies the H.264 packets of ``video`` into an MPEG-TS file (read front to back, as a broadcast is)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(video)) as source, av.open(str(target), mode="w", format="mpegts") as out:
        in_stream = source.streams.video[0]
        out_stream = out.add_stream_from_template(in_stream)
        for packet in source.demux(in_stream):
            if packet.dts is None:
                continue
            packet.stream = out_stream
            out.mux(packet)
    return target


def remux_to_hls(video: Path, out_dir: Path, segment_s: float = 1.0) -> Path:
    """Copies the H.264 packets of ``video`` into an HLS playlist with ~``segment_s`` segments."""
    out_dir.mkdir(parents=True, exist_ok=True)
    playlist = out_dir / "index.m3u8"
    with av.open(str(video)) as source:
        in_stream = source.streams.video[0]
        options = {"hls_time": str(segment_s), "hls_list_size": "0", "hls_playlist_type": "vod"}
        with av.open(str(playlist), mode="w", format="hls", options=options) as target:
            out_stream = target.add_stream_from_template(in_stream)
            for packet in source.demux(in_stream):
                if packet.dts is None:
                    continue
                packet.stream = out_stream
                target.mux(packet)
    return playlist
