"""``--scan``: whole-file analysis of a recorded video or a folder of them, with reports and resume.

Wired into run_live.py by app/cli.py: :func:`add_scan_arguments` adds the flags to its parser
and :func:`run_scan` runs instead of the headless loop when ``--scan`` is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from app.argtypes import non_negative_int
from app.scan_common import (
    announce,
    file_record,
    folder_exit,
    folder_videos,
    load_scan_model,
    no_videos,
    print_record,
)
from app.signals import StopOnSignals
from app.startup import announce_loading
from common.exit_codes import EXIT_OK, fail
from realtime.config import EngineConfig
from realtime.sources.factory import names_live_source
from services.scan.files import VIDEO_SUFFIXES, is_video_file

if TYPE_CHECKING:
    from services.scan.runner import Scanner

DEFAULT_EXPLANATIONS = 4  # heatmaps per report


class ScanUsageError(Exception):
    """A user mistake in the scan options; reported as one line."""


def add_scan_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds ``--scan`` and its options to run_live.py's parser."""
    group = parser.add_argument_group(
        "recorded files",
        "--scan analyses a whole video file, or every video in a folder, as fast as the machine allows "
        "(every frame; --sample-every N trades accuracy for speed, see docs/REPORTS.md) and writes JSON, CSV, "
        "HTML and SRT reports; an interrupted folder scan resumes where it stopped when run again",
    )
    group.add_argument("--scan", action="store_true", help="scan --source FILE or DIR and write reports")
    group.add_argument("--out", type=Path, metavar="DIR", help="write reports here (default: next to each video)")
    group.add_argument("--recursive", action="store_true", help="with a folder: include videos in subfolders")
    group.add_argument(
        "--export-video",
        type=Path,
        metavar="OUT.mp4",
        help="also write the video with boxes, scores, a gauge and the verdict; implies --scan (default: none)",
    )
    group.add_argument(
        "--explain",
        type=non_negative_int,
        default=DEFAULT_EXPLANATIONS,
        metavar="N",
        help=f"heatmaps for the N most suspicious windows (default {DEFAULT_EXPLANATIONS}; 0: none)",
    )
    group.add_argument("--rescan", action="store_true", help="scan again even where a matching report exists")


def _check(source_spec: str | None, config: EngineConfig, args: argparse.Namespace) -> Path:
    """The source path, or ScanUsageError for what --scan cannot do."""
    if not source_spec:
        raise ScanUsageError("--scan needs --source FILE or --source DIR")
    if names_live_source(source_spec):
        raise ScanUsageError("--scan reads recorded files and folders, not live sources")
    if config.realtime:
        raise ScanUsageError("--scan analyses as fast as possible; drop --realtime")
    source = Path(source_spec)
    if not source.exists():
        raise ScanUsageError(f"source not found: {source_spec}")
    if source.is_file() and not is_video_file(source):
        raise ScanUsageError(f"not a video file: {source_spec} (expected one of {', '.join(sorted(VIDEO_SUFFIXES))})")
    export = args.export_video
    if export is not None:
        if source.is_dir():
            raise ScanUsageError("--export-video needs a single video file as --source")
        if export.suffix.lower() not in (".mp4", ".mkv", ".mov"):
            raise ScanUsageError(f"--export-video must end in .mp4, .mkv or .mov, not {export.name!r}")
        if export.resolve() == source.resolve():
            raise ScanUsageError("--export-video would overwrite the source")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise ScanUsageError(f"--out must be a folder: {args.out}")
    return source


def run_scan(source_spec: str | None, model_path: Path | None, config: EngineConfig, args: argparse.Namespace) -> int:
    """Scans a file or folder; returns 0 when every video has a complete report, else 1 (after one error line)."""
    try:
        source = _check(source_spec, config, args)
    except ScanUsageError as exc:
        return fail(str(exc))
    if args.backend == "ray":
        if not source.is_dir():
            return fail("--backend ray spreads the files of a folder over Ray: give --source DIR")
        from app.scan_ray import scan_folder_on_ray

        return scan_folder_on_ray(source, model_path, config, args)
    # Heavy imports after the checks so mistakes answer at once.
    from realtime.engine import EngineError, build_engine
    from services.scan.runner import Scanner

    announce_loading(model_path)
    try:
        detector, identity = load_scan_model(model_path, config)
        engine = build_engine(config, model_path, detector=detector, for_scan=True)
    except EngineError as exc:
        return fail(str(exc))
    # An export needs this run's face boxes, so a file with --export-video is always scanned afresh.
    rescan = args.rescan or args.export_video is not None
    scanner = Scanner(engine, identity, args.explain, rescan)

    with StopOnSignals(scanner.stop):
        if source.is_dir():
            return _scan_folder(scanner, source, args)
        return _scan_file(scanner, source, args)


def _scan_file(scanner: Scanner, video: Path, args: argparse.Namespace) -> int:
    from realtime.verdicts import Judgement
    from services.scan.export_video import ExportError, export_video
    from services.scan.reports import report_paths

    outcome = scanner.scan(video, report_paths(video, args.out))
    print_record(file_record(outcome))
    if outcome.status == "interrupted":
        return fail(f"interrupted; partial reports in {outcome.paths.json.parent}")
    if outcome.status == "failed":
        return fail(outcome.error or f"cannot scan {video}")
    if args.export_video is not None:
        scanner.progress.begin(f"export {args.export_video.name}", outcome.report["file"]["frame_count"])
        result = outcome.report["result"]
        judgement = Judgement(result["verdict"], result["headline"])
        try:
            export_video(
                video, args.export_video, outcome.result, scanner.progress.update, scanner.stop_event, judgement
            )
        except ExportError as exc:
            return fail(str(exc))
        finally:
            scanner.progress.end()
    return EXIT_OK


def _scan_folder(scanner: Scanner, root: Path, args: argparse.Namespace) -> int:
    from services.scan.index import build_index, write_index
    from services.scan.reports import report_paths

    videos = folder_videos(root, args)
    if not videos:
        return no_videos(root, args)
    index_dir = args.out or root
    outcomes = []
    for number, video in enumerate(videos, start=1):
        outcome = scanner.scan(video, report_paths(video, args.out, root), f"{number}/{len(videos)} {video.name}")
        outcomes.append(outcome)
        announce(outcome)
        pending = videos[number:]
        try:
            write_index(
                build_index(root, index_dir, outcomes, pending, scanner.model.to_dict(), scanner.settings), index_dir
            )
        except OSError as exc:
            return fail(f"cannot write the index: {exc}")
        if scanner.stopped:
            break
    return folder_exit(outcomes, len(videos), scanner.stopped)
