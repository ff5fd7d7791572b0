"""``run_live.py --streams streams.yaml [--backend threads|ray] [--address ADDR]``: many streams at once."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.signals import StopOnSignals
from app.startup import announce_loading
from common.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, fail, output_closed_exit
from realtime.config import EngineConfig

if TYPE_CHECKING:
    from realtime.engine import Detector, Engine
    from realtime.pipeline import StreamStats
    from services.multistream.config import StreamSettings
    from ui.grid_session import GridSession


def add_streams_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds --streams, --backend and --address to the run_live.py parser."""
    parser.add_argument(
        "--streams",
        type=Path,
        metavar="FILE",
        help="YAML list of streams ({name, source, threshold?, detect_every?, alert?}) analysed together "
        "(default: none, one --source)",
    )
    parser.add_argument(
        "--backend",
        choices=["threads", "ray"],
        default="threads",
        help="threads: this machine (default); ray: a Ray cluster (--streams: one actor per stream, "
        "--scan DIR: one task per file)",
    )
    parser.add_argument(
        "--address", metavar="ADDR", help="Ray cluster to join (its head's host:6379, or auto); default: a local Ray"
    )


def address_without_ray_error(args: argparse.Namespace) -> str | None:
    """The line for --address given without --backend ray (only Ray joins a cluster)."""
    if args.address and args.backend != "ray":
        return "--address names a Ray cluster; it needs --backend ray"
    return None


@dataclass(frozen=True)
class PreparedStreams:
    """What every --streams run needs before its backend starts: the streams and the model."""

    streams: list[StreamSettings]
    detector: Detector


def prepare_streams(args: argparse.Namespace, config: EngineConfig) -> PreparedStreams | int:
    """Validates the flags and ``args.streams``, checks every source can exist and loads the model;
    an exit code (after one ``error:`` line) on a mistake. Usage errors answer before heavy imports."""
    from services.multistream.config import StreamsConfigError, load_streams

    if args.source:
        return fail("--streams and --source are exclusive: put the source in the streams file", EXIT_USAGE)
    address_error = address_without_ray_error(args)
    if address_error:
        return fail(address_error, EXIT_USAGE)
    try:
        streams = load_streams(args.streams)
    except StreamsConfigError as exc:
        return fail(str(exc), EXIT_USAGE)

    from realtime.engine import EngineError, load_engine_detector, warn_if_untrained
    from realtime.sources.base import SourceError
    from services.multistream.sources import open_stream_source

    for stream in streams:
        try:
            open_stream_source(stream, config, lambda record: None)  # checks the source can exist
        except SourceError as exc:
            return fail(f"stream {stream.name}: {exc}")
    announce_loading(args.model)
    try:
        detector = load_engine_detector(config, args.model)
    except EngineError as exc:
        return fail(str(exc))
    warn_if_untrained(detector)
    return PreparedStreams(streams, detector)


def local_engine(prepared: PreparedStreams, config: EngineConfig) -> Engine | int:
    """The one engine every stream of the threads backend shares; an exit code when the device fails."""
    from realtime.engine import EngineError, build_engine

    try:
        return build_engine(config, detector=prepared.detector)
    except EngineError as exc:
        return fail(str(exc))


def open_grid_session(args: argparse.Namespace, config: EngineConfig) -> GridSession | int:
    """Validates ``args.streams``, loads the model and builds the grid's session (not started); an exit code
    on error. Usage mistakes answer before anything heavy loads, with the messages of a headless run."""
    from ui.grid_session import GridSession

    prepared = prepare_streams(args, config)
    if isinstance(prepared, int):
        return prepared
    engine = local_engine(prepared, config)
    if isinstance(engine, int):
        return engine
    return GridSession(prepared.streams, engine)


def run_grid_streams(args: argparse.Namespace, config: EngineConfig) -> int:
    """``--streams`` with a display: the stream grid window; the exit code of a headless run."""
    from ui.grid_app import run_grid

    session = open_grid_session(args, config)
    if isinstance(session, int):
        return session
    interrupted, signalled = run_grid(session)
    stats = session.finish(interrupted)
    return streams_exit_code(session.streams, stats, session.runner.error, signalled, args.fail_on_interrupt)


def streams_exit_code(
    streams: list[StreamSettings],
    stats: dict[str, StreamStats],
    run_error: str | None,
    interrupted: bool,
    fail_on_interrupt: bool,
) -> int:
    """After the summaries: an ``error:`` line per failed stream (and for a failed run); the exit code."""
    failed = [stats[stream.name] for stream in streams if stats[stream.name].error]
    for stream_stats in failed:
        print(f"error: stream {stream_stats.name}: {stream_stats.error}", file=sys.stderr, flush=True)
    if run_error:
        return fail(run_error)
    if failed:
        return EXIT_FAILED
    return EXIT_INTERRUPTED if interrupted and fail_on_interrupt else EXIT_OK


def run_streams(args: argparse.Namespace, config: EngineConfig) -> int:
    """Analyses every stream of ``args.streams``; prints tagged JSON lines and per-stream summaries."""
    prepared = prepare_streams(args, config)
    if isinstance(prepared, int):
        return prepared
    from realtime.engine import resolve_settings
    from realtime.output import JsonLinesWriter
    from services.multistream.local import ThreadStreams
    from services.multistream.sinks import StreamSinks
    from services.multistream.status import StatusBoard, start_status_view

    streams, detector = prepared.streams, prepared.detector
    threshold = resolve_settings(config, detector.spec).threshold
    board = StatusBoard([stream.name for stream in streams])
    sinks = StreamSinks(streams, JsonLinesWriter(), detector.spec.trained, threshold, board)
    started_ray = False
    if args.backend == "ray":
        try:
            from services.multistream.ray_backend import RayStreams
            from services.ray_cluster import ClusterUnreachable, connect

            started_ray = connect(args.address)
            runner: RayStreams | ThreadStreams = RayStreams(streams, detector, config, sinks)
        except ImportError:
            return fail("--backend ray needs the ray package (pip install -r requirements.txt)")
        except ClusterUnreachable as exc:
            return fail(str(exc))
    else:
        engine = local_engine(prepared, config)
        if isinstance(engine, int):
            return engine
        runner = ThreadStreams(streams, engine, sinks)
    sinks.on_reader_gone = runner.stop
    view = start_status_view(board)
    started = time.monotonic()
    signals = StopOnSignals(runner.stop)
    try:
        with signals:
            runner.start()
            runner.wait()
    finally:
        runner.stop()
        runner.close()
        stats = runner.stats()
        for name, stream_stats in stats.items():
            board.state(name, "failed" if stream_stats.error else "ended")
        if view is not None:
            view.close()
        sinks.close()
    if sinks.reader_gone.is_set():
        if started_ray:
            import ray

            ray.shutdown()
        return output_closed_exit()
    interrupted = signals.interrupted
    restarts = {name: runner.restarts(name) for name in stats} if args.backend == "ray" else None
    elapsed_s = time.monotonic() - started
    sinks.write_summaries(
        stats, detector.spec, detector.source, runner.device, runner.runtime, elapsed_s, interrupted, restarts
    )
    if started_ray:
        import ray

        ray.shutdown()
    return streams_exit_code(streams, stats, runner.error, interrupted, args.fail_on_interrupt)
