"""Serve the H.264 video of an mp4 file over RTSP, paced like a camera, for tests.

Runs with Debian's system python3 (python3-gi and GStreamer's RTSP server come from
apt, see .ci/apt-packages.txt), not the project's virtualenv:

    /usr/bin/python3 tests/support/rtsp_server.py --file CLIP.mp4 --port 0 \
        --path /stream [--user U --password P] [--loop]

The server listens on 127.0.0.1 only and prints exactly one line,
``READY rtsp://127.0.0.1:PORT/PATH``, on stdout once it accepts connections
(``--port 0`` picks a free port). It exits with status 0 on SIGTERM or SIGINT.

The file's H.264 access units are read into memory once at start-up and fed to each
client's pipeline through an appsrc, so the video is not re-encoded (files whose
video is not H.264 are re-encoded with x264enc, which needs gstreamer1.0-plugins-ugly
and gstreamer1.0-libav). Looping
restarts the list with timestamps shifted by the clip's duration, so the RTP stream
stays continuous. Every client gets its own media and starts at the first frame; the
RTSP server's sinks sync to the clock, which paces the stream in real time.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstRtspServer", "1.0")
# GstApp adds the appsrc/appsink methods (push_buffer, try_pull_sample) to those elements.
from gi.repository import GLib, Gst, GstApp, GstRtspServer  # noqa: E402

BIND_ADDRESS = "127.0.0.1"
READ_TIMEOUT_S = 30.0
PULL_TIMEOUT_NS = Gst.SECOND // 10
ROLE = "client"
PASSTHROUGH_READER = "filesrc name=file ! qtdemux name=demux demux.video_0 ! appsink name=sink sync=false"
REENCODE_READER = (
    "filesrc name=file ! decodebin ! videoconvert "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 "
    "! video/x-h264,stream-format=avc,alignment=au ! appsink name=sink sync=false"
)
# config-interval=1, not -1: -1 repeats SPS/PPS before every IDR *slice*, which splits
# multi-slice frames into extra frames in FFmpeg's H.264 parser.
MEDIA_LAUNCH = "( appsrc name=src format=time ! rtph264pay name=pay0 pt=96 config-interval=1 )"


@dataclass(frozen=True)
class Clip:
    """H.264 access units of one file, in decode order.

    ``start_ns`` is the earliest pts or dts (x264enc starts at 1000 hours), subtracted so
    the stream starts at 0; ``duration_ns`` is the loop period.
    """

    caps: Gst.Caps
    buffers: list[Gst.Buffer]
    start_ns: int
    duration_ns: int


@dataclass
class Feeder:
    """Per-client position in the clip; pushes one access unit per need-data."""

    clip: Clip
    loop: bool
    index: int = 0
    offset_ns: int = 0
    done: bool = False

    def on_need_data(self, appsrc: GstApp.AppSrc, _length: int) -> None:
        """Push the next access unit, or end the stream after the last one."""
        if self.done:
            return
        if self.index == len(self.clip.buffers):
            if not self.loop:
                self.done = True
                appsrc.end_of_stream()
                return
            self.index = 0
            self.offset_ns += self.clip.duration_ns
        source = self.clip.buffers[self.index]
        self.index += 1
        # Not copy(): PyGObject maps it to a new reference, so the stored buffer would shift.
        buffer = source.copy_deep()
        shift_ns = self.offset_ns - self.clip.start_ns
        buffer.pts = _shifted(source.pts, shift_ns)
        buffer.dts = _shifted(source.dts, shift_ns)
        appsrc.push_buffer(buffer)


def _shifted(timestamp_ns: int, offset_ns: int) -> int:
    """Shift a buffer timestamp, leaving an unset one unset."""
    if timestamp_ns == Gst.CLOCK_TIME_NONE:
        return timestamp_ns
    return timestamp_ns + offset_ns


def _read_units(video_path: Path, description: str) -> tuple[Gst.Caps, list[Gst.Buffer]]:
    """Run a reader pipeline to EOS and return the caps and buffers its appsink got."""
    pipeline = Gst.parse_launch(description)
    pipeline.get_by_name("file").set_property("location", str(video_path))
    sink = pipeline.get_by_name("sink")
    bus = pipeline.get_bus()
    caps: Gst.Caps | None = None
    buffers: list[Gst.Buffer] = []
    deadline = time.monotonic() + READ_TIMEOUT_S
    pipeline.set_state(Gst.State.PLAYING)
    try:
        while True:
            sample = sink.try_pull_sample(PULL_TIMEOUT_NS)
            if sample is not None:
                caps = caps or sample.get_caps()
                buffers.append(sample.get_buffer())
                continue
            if sink.is_eos():
                break
            error = bus.pop_filtered(Gst.MessageType.ERROR)
            if error is not None:
                err, debug = error.parse_error()
                raise RuntimeError(f"cannot read {video_path}: {err.message} ({debug})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"reading {video_path} took over {READ_TIMEOUT_S} s")
    finally:
        pipeline.set_state(Gst.State.NULL)
    if caps is None or not buffers:
        raise RuntimeError(f"no video frames in {video_path}")
    return caps, buffers


def load_clip(video_path: Path) -> Clip:
    """Read the file's H.264 video into memory, re-encoding only if it is not H.264."""
    caps, buffers = _read_units(video_path, PASSTHROUGH_READER)
    if caps.get_structure(0).get_name() != "video/x-h264":
        if Gst.ElementFactory.find("x264enc") is None:
            raise RuntimeError(
                f"{video_path} is not H.264 and x264enc is missing "
                "(install gstreamer1.0-plugins-ugly and gstreamer1.0-libav)"
            )
        caps, buffers = _read_units(video_path, REENCODE_READER)
    timed = [b for b in buffers if b.pts != Gst.CLOCK_TIME_NONE]
    if not timed:
        raise RuntimeError(f"video frames in {video_path} carry no timestamps")
    first_pts_ns = min(b.pts for b in timed)
    last_pts_ns = max(b.pts for b in timed)
    # A missing frame duration is replaced by the mean frame interval.
    mean_frame_ns = (last_pts_ns - first_pts_ns) // max(len(timed) - 1, 1)
    end_ns = max(b.pts + (b.duration if b.duration != Gst.CLOCK_TIME_NONE else mean_frame_ns) for b in timed)
    dts_ns = [b.dts for b in buffers if b.dts != Gst.CLOCK_TIME_NONE]
    return Clip(
        caps=caps,
        buffers=buffers,
        start_ns=min([first_pts_ns, *dts_ns]),
        duration_ns=max(end_ns - first_pts_ns, 1),
    )


def build_server(
    clip: Clip, *, port: int, path: str, user: str | None, password: str | None, loop: bool
) -> GstRtspServer.RTSPServer:
    """Create the RTSP server (not yet attached) with one mount serving the clip."""
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(MEDIA_LAUNCH)
    factory.set_shared(False)

    def on_media_configure(_factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia) -> None:
        appsrc = media.get_element().get_by_name("src")
        appsrc.set_property("caps", clip.caps)
        appsrc.connect("need-data", Feeder(clip=clip, loop=loop).on_need_data)

    factory.connect("media-configure", on_media_configure)

    server = GstRtspServer.RTSPServer()
    server.set_address(BIND_ADDRESS)
    server.set_service(str(port))
    server.get_mount_points().add_factory(path, factory)
    if user is not None:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password or ""), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        permissions.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(permissions)
    return server


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, required=True, help="mp4 file with H.264 video")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--path", default="/stream", help="mount path, starting with /")
    parser.add_argument("--user", help="require basic auth with this user name")
    parser.add_argument("--password", help="password for --user")
    parser.add_argument("--loop", action="store_true", help="repeat the file forever")
    args = parser.parse_args(argv)
    if not args.path.startswith("/"):
        parser.error("--path must start with /")
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")
    if not args.file.is_file():
        parser.error(f"no such file: {args.file}")
    return args


def main(argv: list[str]) -> int:
    """Serve until SIGTERM or SIGINT; return the exit status."""
    args = parse_args(argv)
    Gst.init(None)
    main_loop = GLib.MainLoop()
    # Installed first so a signal that arrives while loading still ends the loop cleanly.
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, main_loop.quit)
    try:
        clip = load_clip(args.file)
    except RuntimeError as error:
        print(f"rtsp_server: {error}", file=sys.stderr)
        return 1
    server = build_server(clip, port=args.port, path=args.path, user=args.user, password=args.password, loop=args.loop)
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on {BIND_ADDRESS}:{args.port}", file=sys.stderr)
        return 1
    print(f"READY rtsp://{BIND_ADDRESS}:{server.get_bound_port()}{args.path}", flush=True)
    main_loop.run()
    server.client_filter(lambda _server, _client: GstRtspServer.RTSPFilterResult.REMOVE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
