"""A static HTTP server on 127.0.0.1 in a thread, for HTTP and HLS stream tests."""

from __future__ import annotations

import functools
import socket
import threading
from collections import deque
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import av


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static files over HTTP/1.1 (a length for every body), with the faults a test queued for a path."""

    protocol_version = "HTTP/1.1"

    def __init__(self, *args: object, faults: dict[str, deque[str]], requests: list[str], **kwargs: object) -> None:
        self.faults = faults
        self.requests = requests
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
        elif fault == "cut":  # ... or in the middle of the body it announced
            body = Path(self.translate_path(path)).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            super().do_GET()


class StaticHttpServer:
    """Serves ``root`` on http://127.0.0.1:<free port>/ until closed.

    ``fail(path, *faults)`` queues what the next requests of ``path`` get instead of the file: ``reset`` (the
    connection closes unanswered) or ``cut`` (a third of the body it announced, then the connection closes).
    ``requests`` lists every path asked for, in order.
    """

    def __init__(self, root: Path) -> None:
        self.faults: dict[str, deque[str]] = {}
        self.requests: list[str] = []
        handler = functools.partial(_QuietHandler, directory=str(root), faults=self.faults, requests=self.requests)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-test-server", daemon=True)

    def fail(self, path: str, *faults: str) -> None:
        self.faults.setdefault(path, deque()).extend(faults)

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
