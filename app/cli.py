"""Command line: parse arguments, build the pipeline, run headless and print JSON lines."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from app.argtypes import non_negative_int, positive_float, positive_int, probability
from app.parser import Parser
from app.scan import DEFAULT_EXPLANATIONS, add_scan_arguments, run_scan
from app.signals import StopOnSignals
from app.startup import announce_loading, folder_without_scan_error, model_file_error
from app.streams import add_streams_arguments, address_without_ray_error, run_grid_streams, run_streams
from app.window import run_window_app
from common.errors import OutputClosed, is_closed_pipe
from common.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, fail, output_closed_exit
from realtime.config import EngineConfig
from realtime.sources.factory import SOURCE_FORMS, names_live_source


def build_parser() -> argparse.ArgumentParser:
    defaults = EngineConfig()
    parser = Parser(
        prog="run_live.py",
        description="Live deepfake analysis of faces in videos, streams, webcams, screen regions and images.",
    )
    parser.add_argument("--source", help=f"what to analyse: {SOURCE_FORMS}; default: the built-in demo clip")
    parser.add_argument(
        "--headless",
        action="store_true",
        help="print JSON lines instead of opening the window (the default when there is no display)",
    )
    parser.add_argument("--model", type=Path, help="checkpoint file; default: the shipped detector")
    parser.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default=defaults.device,
        help="where the model runs; auto: a CUDA GPU when present, else the CPU",
    )
    parser.add_argument(
        "--runtime",
        choices=["auto", "torch", "onnx"],
        default=defaults.runtime,
        help="backbone runtime; auto: ONNX Runtime on cpu (2-4x faster), torch on cuda",
    )
    parser.add_argument("--window", type=positive_int, help="frames per window (default: the checkpoint's)")
    parser.add_argument(
        "--stride",
        type=positive_int,
        default=defaults.stride,
        help="new embedded crops of a face between two of its windows (default: 3 where every crop is embedded, "
        "1 where a CPU paces crops)",
    )
    parser.add_argument(
        "--crops-per-second",
        type=positive_float,
        default=defaults.crops_per_second,
        metavar="N",
        help="crops per second of video per face that a CPU embeds from files and scans (default: the model's; "
        "live sources embed each face's newest crop)",
    )
    parser.add_argument(
        "--detect-every",
        type=positive_int,
        default=defaults.detect_every,
        metavar="N",
        help="run the face detector every N frames and track faces in between",
    )
    parser.add_argument(
        "--detector",
        choices=["hog", "cnn"],
        default=defaults.detector_model,
        help="dlib face detector: hog (fast) or cnn (accurate, about 1 s per frame on a CPU)",
    )
    parser.add_argument(
        "--detect-max-side",
        type=positive_int,
        default=defaults.detect_max_side,
        metavar="PX",
        help="downscale frames to this longer side for detection (raise it for small faces)",
    )
    parser.add_argument(
        "--threshold",
        type=probability,
        metavar="P",
        help="a window whose p_fake reaches P (at or above it) is suspicious (default: the checkpoint's)",
    )
    parser.add_argument(
        "--max-faces", type=positive_int, default=defaults.max_faces, help="follow at most N faces per source"
    )
    parser.add_argument("--realtime", action="store_true", help="pace a file like a live feed (may drop frames)")
    parser.add_argument(
        "--sample-every",
        type=positive_int,
        default=defaults.sample_every,
        metavar="N",
        help="analyse every Nth frame of a video file (default: every frame)",
    )
    parser.add_argument(
        "--reconnect-attempts",
        type=non_negative_int,
        default=defaults.reconnect_attempts,
        metavar="N",
        help="failed reconnects in a row before giving up on a network stream (0: never reconnect)",
    )
    parser.add_argument(
        "--read-timeout",
        type=positive_float,
        default=defaults.read_timeout_s,
        metavar="S",
        help="seconds without data after which a network stream counts as broken",
    )
    parser.add_argument(
        "--fail-on-interrupt",
        action="store_true",
        help="exit with status 130 after Ctrl-C/SIGTERM (default 0: the summary is still complete)",
    )
    parser.add_argument(
        "--threads", type=positive_int, help="CPU threads for inference (default: cores - 1; all cores for --scan)"
    )
    add_scan_arguments(parser)
    add_streams_arguments(parser)
    return parser


def config_from_args(args: argparse.Namespace) -> EngineConfig:
    return EngineConfig(
        device=args.device,
        runtime=args.runtime,
        window=args.window,
        stride=args.stride,
        crops_per_second=args.crops_per_second,
        threshold=args.threshold,
        detect_every=args.detect_every,
        detector_model=args.detector,
        detect_max_side=args.detect_max_side,
        max_faces=args.max_faces,
        realtime=args.realtime,
        sample_every=args.sample_every,
        read_timeout_s=args.read_timeout,
        reconnect_attempts=args.reconnect_attempts,
        torch_threads=args.threads or 0,
    )


def _file_only_flags_error(args: argparse.Namespace) -> str | None:
    """Flags that only make sense for video files, given with another kind of source."""
    live_source = names_live_source(args.source)
    if live_source and args.realtime:
        return "--realtime paces video files; live sources are real time already"
    if live_source and args.sample_every > 1:
        return "--sample-every thins video files; live sources drop what analysis cannot keep up with"
    return None


def _backend_flags_error(args: argparse.Namespace) -> str | None:
    """--streams, --scan, --backend and --address given in a combination that means nothing."""
    from services.ray_cluster import bootstrap_endpoint

    if args.streams and args.scan:
        return "--streams and --scan are exclusive: run them separately"
    if args.backend == "ray" and not (args.streams or args.scan):
        return "--backend ray runs --streams FILE or --scan on Ray; add one of them"
    address_error = address_without_ray_error(args)
    if address_error:
        return address_error
    if args.address:
        try:
            bootstrap_endpoint(args.address)
        except ValueError as exc:
            return str(exc)
    return None


def _scan_only_flags(args: argparse.Namespace) -> list[tuple[str, bool]]:
    """The flags that only a scan reads, and whether each was given."""
    return [
        ("--out", args.out is not None),
        ("--recursive", args.recursive),
        ("--rescan", args.rescan),
        ("--explain", args.explain != DEFAULT_EXPLANATIONS),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; a reader of stdout that went away ends any run quietly (exit status 141)."""
    try:
        return _run(argv)
    except OutputClosed:
        return output_closed_exit()
    except OSError as exc:
        if is_closed_pipe(exc):
            return output_closed_exit()
        raise


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    conflict = _file_only_flags_error(args)
    if conflict:
        parser.error(conflict)
    if args.export_video is not None and not args.scan:
        if args.streams:
            return fail("--export-video writes one scanned file; it does not apply to --streams", EXIT_USAGE)
        args.scan = True  # an annotated video needs the whole-file scan; say so rather than ignore the flag
        print("note: --export-video implies --scan", file=sys.stderr, flush=True)
    backend_error = _backend_flags_error(args)
    if backend_error:
        return fail(backend_error, EXIT_USAGE)
    scan_only = [flag for flag, given in _scan_only_flags(args) if given]
    if scan_only and not args.scan:
        return fail(f"{scan_only[0]} belongs to --scan; add --scan (or drop {scan_only[0]})", EXIT_USAGE)
    if not args.scan and not args.streams:
        folder_error = folder_without_scan_error(args.source)
        if folder_error:
            return fail(folder_error, EXIT_USAGE)
    model_error = model_file_error(args.model)
    if model_error:
        return fail(model_error)
    config = config_from_args(args)
    if args.streams:
        if args.backend == "threads" and not args.headless and _display_available():
            return run_grid_streams(args, config)  # PyQt5 loads only when a window will open
        return run_streams(args, config)
    if args.scan:
        return run_scan(args.source, args.model, config, args)
    if not args.headless and _display_available():
        return run_window_app(args.source, args.model, config)
    return run_headless(args.source, args.model, config, args.fail_on_interrupt)


def _display_available() -> bool:
    """A window can open: an X or Wayland display is set."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_headless(
    source_spec: str | None, model_path: Path | None, config: EngineConfig, fail_on_interrupt: bool = False
) -> int:
    """Analyses one source, printing verdicts and a summary as JSON lines; returns the exit code."""
    # Heavy imports after argument parsing so --help and usage errors answer at once.
    from realtime.engine import EngineError, build_engine
    from realtime.output import JsonLinesWriter, status_record, summary_record, verdict_record
    from realtime.pipeline import SIGNAL_CHECK_S
    from realtime.sinks import VerdictSink
    from realtime.sources.base import SourceError
    from realtime.sources.factory import open_configured_source
    from realtime.status import StreamStatus, status_warning
    from realtime.summary import VerdictSummary

    writer = JsonLinesWriter()
    reader_gone = threading.Event()  # set on the capture thread when a status line found stdout closed

    def on_status(status: StreamStatus) -> None:  # runs on the capture thread
        warning = status_warning(source.name, status)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        try:
            writer.write(status_record(status, source.name))
        except OutputClosed:
            reader_gone.set()

    try:
        source = open_configured_source(config, source_spec, on_status)
        announce_loading(model_path)
        engine = build_engine(config, model_path)
    except (SourceError, EngineError) as exc:
        return fail(str(exc))
    summary = VerdictSummary()
    trained = engine.spec.trained
    sinks = [
        VerdictSink("summary", summary.add),
        VerdictSink("JSON lines", lambda verdict: writer.write(verdict_record(verdict, trained))),
    ]
    pipeline = engine.pipeline([source], sinks)
    started = time.monotonic()
    with StopOnSignals(pipeline.stop) as signals:
        try:
            pipeline.start()
            while not pipeline.finished(timeout_s=SIGNAL_CHECK_S):
                if reader_gone.is_set():
                    pipeline.stop()
        finally:
            pipeline.stop()
            pipeline.join()
    if pipeline.output_closed or reader_gone.is_set():
        return output_closed_exit()
    interrupted = signals.interrupted
    stats = pipeline.stats()[0]
    if stats.error and stats.frames_read == 0:
        return fail(stats.error)
    writer.write(
        summary_record(
            stats,
            summary,
            engine.spec,
            engine.model_source,
            pipeline.settings.threshold,
            engine.device,
            engine.runtime,
            time.monotonic() - started,
            interrupted,
            source.still_images,
        )
    )
    if pipeline.inference.error:
        return fail(pipeline.inference.error)
    if pipeline.sinks.failures:
        name, message = next(iter(pipeline.sinks.failures.items()))
        return fail(f"the {name} output failed: {message}")
    if stats.error:
        return fail(stats.error)
    return EXIT_INTERRUPTED if interrupted and fail_on_interrupt else EXIT_OK
