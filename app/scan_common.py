"""What the local and the Ray folder scans share: loading the model, the stdout lines, exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.exit_codes import EXIT_OK, fail
from services.scan.files import list_videos

if TYPE_CHECKING:
    from realtime.config import EngineConfig
    from realtime.engine import Detector
    from services.scan.report_json import ModelIdentity
    from services.scan.runner import FileOutcome


def file_record(outcome: FileOutcome) -> dict[str, Any]:
    """The stdout JSON line for one file."""
    record: dict[str, Any] = {"type": "scan", "file": str(outcome.video), "status": outcome.status}
    if outcome.report is not None:
        result = outcome.report["result"]
        record.update(
            verdict=result["verdict"],
            headline=result["headline"],
            video_p_fake=result["video_p_fake"],
            suspicious_segments=[[s["start_s"], s["end_s"]] for s in result["suspicious_segments"]],
            report=str(outcome.paths.json),
        )
    if outcome.error:
        record["error"] = outcome.error
    return record


def load_scan_model(model_path: Path | None, config: EngineConfig) -> tuple[Detector, ModelIdentity]:
    """The detector (default: the shipped one) for the configured device and how reports name it;
    EngineError when unusable."""
    from realtime.engine import load_engine_detector, warn_if_untrained
    from services.scan.report_json import ModelIdentity

    detector = load_engine_detector(config, model_path)
    warn_if_untrained(detector)
    return detector, ModelIdentity(detector.source, detector.checkpoint_sha256, detector.spec)


def print_record(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


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
