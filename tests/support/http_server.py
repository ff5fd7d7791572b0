"""A static HTTP server on 127.0.0.1 in a thread, for HTTP and HLS stream tests."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import av


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # tests need no access log
        pass


class StaticHttpServer:
    """Serves ``root`` on http://127.0.0.1:<free port>/ until closed."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-test-server", daemon=True)

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
