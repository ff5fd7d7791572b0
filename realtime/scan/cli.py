"""``--scan``: whole-file analysis of a recorded video or a folder of them, with reports and resume.

Wired into run_live.py by realtime/cli.py: :func:`add_scan_arguments` adds the flags to its parser
and :func:`run_scan` runs instead of the headless loop when ``--scan`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime.argtypes import non_negative_int
from realtime.config import EngineConfig
from realtime.scan.files import VIDEO_SUFFIXES, is_video_file, list_videos
from realtime.signals import StopOnSignals

if TYPE_CHECKING:
    from models.registry import LoadedModel
    from realtime.scan.report_json import ModelIdentity
    from realtime.scan.runner import FileOutcome, Scanner

DEFAULT_EXPLANATIONS = 4  # Grad-CAM heatmaps per report

EXIT_OK = 0
EXIT_FAILED = 1


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
        "--export-video", type=Path, metavar="OUT.mp4", help="also write the video with boxes, scores and a gauge"
    )
    group.add_argument(
        "--explain",
        type=non_negative_int,
        default=DEFAULT_EXPLANATIONS,
        metavar="N",
        help=f"Grad-CAM heatmaps for the N most suspicious windows (default {DEFAULT_EXPLANATIONS}; 0: none)",
    )
    group.add_argument("--rescan", action="store_true", help="scan again even where a matching report exists")


def _check(source_spec: str | None, config: EngineConfig, args: argparse.Namespace) -> Path:
    """The source path, or ScanUsageError for what --scan cannot do."""
    if not source_spec:
        raise ScanUsageError("--scan needs --source FILE or --source DIR")
    if "://" in source_spec or source_spec.startswith(("webcam:", "screen:")):
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


def scan_engine_config(config: EngineConfig, device_type: str) -> EngineConfig:
    """The engine settings of a scan: ``config`` with one crop per backbone pass on a CPU."""
    # On a CPU one crop per pass is as fast as batches and makes every score independent of thread
    # timing (batch shapes change float rounding), so a report is reproducible bit for bit.
    return replace(config, max_batch=1) if device_type == "cpu" else config


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return EXIT_FAILED


def file_record(outcome: FileOutcome) -> dict[str, Any]:
    """The stdout JSON line for one file."""
    record: dict[str, Any] = {"type": "scan", "file": str(outcome.video), "status": outcome.status}
    if outcome.report is not None:
        result = outcome.report["result"]
        record.update(
            verdict=result["verdict"],
            video_p_fake=result["video_p_fake"],
            suspicious_segments=[[s["start_s"], s["end_s"]] for s in result["suspicious_segments"]],
            report=str(outcome.paths.json),
        )
    if outcome.error:
        record["error"] = outcome.error
    return record


def load_scan_model(model_path: Path | None) -> tuple[LoadedModel, ModelIdentity]:
    """The checkpoint (default: the shipped one) and how reports name it; CheckpointError when unusable."""
    from models.checkpoint import file_sha256
    from models.registry import DEFAULT_CHECKPOINT, load_default_model, load_model
    from realtime.scan.report_json import ModelIdentity

    loaded = load_model(model_path) if model_path else load_default_model()
    checkpoint = model_path or (DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None)
    identity = ModelIdentity(loaded.source, file_sha256(checkpoint) if checkpoint else None, loaded.spec)
    if not loaded.spec.trained:
        print(f"warning: {loaded.source} is untrained; its p_fake values are not verdicts", file=sys.stderr)
    return loaded, identity


def run_scan(source_spec: str | None, model_path: Path | None, config: EngineConfig, args: argparse.Namespace) -> int:
    """Scans a file or folder; returns 0 when every video has a complete report, else 1 (after one error line)."""
    try:
        source = _check(source_spec, config, args)
    except ScanUsageError as exc:
        return fail(str(exc))
    if args.backend == "ray":
        if not source.is_dir():
            return fail("--backend ray spreads the files of a folder over Ray: give --source DIR")
        from realtime.scan.ray_cli import scan_folder_on_ray

        return scan_folder_on_ray(source, model_path, config, args)
    # Heavy imports after the checks so mistakes answer at once.
    import torch

    from models.checkpoint import CheckpointError
    from realtime.inference import DeviceUnavailable, make_scorer, select_device
    from realtime.scan.runner import Scanner
    from realtime.sources.demo import demo_cache_dir

    torch.set_num_threads(config.resolved_torch_threads())
    threads = config.resolved_torch_threads()
    try:
        device = select_device(config.device)
        loaded, identity = load_scan_model(model_path)
        scorer = make_scorer(loaded, device, config.runtime, threads, demo_cache_dir() / "onnx")
    except (CheckpointError, DeviceUnavailable) as exc:
        return fail(str(exc))
    scan_config = scan_engine_config(config, device.type)
    # An export needs this run's face boxes, so a file with --export-video is always scanned afresh.
    rescan = args.rescan or args.export_video is not None
    scanner = Scanner(loaded, scorer, identity, scan_config, args.explain, rescan)

    with StopOnSignals(scanner.stop):
        if source.is_dir():
            return _scan_folder(scanner, source, args)
        return _scan_file(scanner, source, args)


def print_record(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def _scan_file(scanner: Scanner, video: Path, args: argparse.Namespace) -> int:
    from realtime.scan.export_video import ExportError, export_video
    from realtime.scan.reports import report_paths

    outcome = scanner.scan(video, report_paths(video, args.out))
    print_record(file_record(outcome))
    if outcome.status == "interrupted":
        return fail(f"interrupted; partial reports in {outcome.paths.json.parent}")
    if outcome.status == "failed":
        return fail(outcome.error or f"cannot scan {video}")
    if args.export_video is not None:
        scanner.progress.begin(f"export {args.export_video.name}", outcome.report["file"]["frame_count"])
        try:
            export_video(video, args.export_video, outcome.result, scanner.progress.update, scanner.stop_event)
        except ExportError as exc:
            return fail(str(exc))
        finally:
            scanner.progress.end()
    return EXIT_OK


def folder_videos(root: Path, args: argparse.Namespace) -> list[Path]:
    """The videos a folder scan covers (never those inside its own --out folder)."""
    out_dir = args.out.resolve() if args.out is not None else None
    return [v for v in list_videos(root, args.recursive) if out_dir is None or not v.resolve().is_relative_to(out_dir)]


def no_videos(root: Path, args: argparse.Namespace) -> int:
    return fail(f"no video files in {root}" + ("" if args.recursive else " (--recursive looks in subfolders)"))


def announce(outcome: FileOutcome) -> None:
    """One file is done: its stdout line, and a warning on stderr when it could not be scanned."""
    print_record(file_record(outcome))
    if outcome.status == "failed":
        print(f"warning: {outcome.video}: {outcome.error}", file=sys.stderr)


def folder_exit(outcomes: list[FileOutcome], total: int, stopped: bool) -> int:
    """The exit code of a folder scan, after its one error line when not every video has a complete report."""
    done = sum(o.status in ("scanned", "reused") for o in outcomes)
    if stopped:
        return fail(f"interrupted after {done} of {total} files; run the same command again to resume")
    if done < total:
        return fail(f"{total - done} of {total} files could not be scanned")
    return EXIT_OK


def _scan_folder(scanner: Scanner, root: Path, args: argparse.Namespace) -> int:
    from realtime.scan.index import build_index, write_index
    from realtime.scan.reports import report_paths

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
