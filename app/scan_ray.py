"""``run_live.py --source DIR --scan --backend ray [--address ADDR]``: a folder scan spread over Ray.

The same checks, reports, resume, index, stdout lines and exit codes as the local folder scan
(app/scan.py); only the scanning itself runs as one Ray task per file (ray_scan.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.scan_common import announce, folder_exit, folder_videos, load_scan_model, no_videos
from app.signals import StopOnSignals
from common.exit_codes import fail
from realtime.config import EngineConfig


def scan_folder_on_ray(root: Path, model_path: Path | None, config: EngineConfig, args: argparse.Namespace) -> int:
    """Scans every video of ``root`` with one Ray task per file; returns the exit code of a local folder scan."""
    videos = folder_videos(root, args)
    if not videos:
        return no_videos(root, args)
    from realtime.engine import EngineError

    try:
        detector, identity = load_scan_model(model_path, config)
    except EngineError as exc:
        return fail(str(exc))
    try:
        import ray

        from services.ray_cluster import ClusterUnreachable, connect
        from services.scan.ray_scan import RayFolderScan, task_resources
        from services.scan.ray_task import ScanJob
    except ImportError:
        return fail("--backend ray needs the ray package (pip install -r requirements.txt)")
    from realtime.engine import resolve_settings, scan_config
    from services.scan.index import build_index, write_index
    from services.scan.report_json import scan_settings
    from services.scan.reports import report_paths

    try:
        started = connect(args.address)
    except ClusterUnreachable as exc:
        return fail(str(exc))
    try:
        threads = config.torch_threads or 1  # each task reserves this many CPUs and runs inference on them
        try:
            resources = task_resources(config.device, threads)
        except ValueError as exc:
            return fail(str(exc))
        settings = scan_settings(scan_config(config), resolve_settings(config, detector.spec), args.explain)
        job = ScanJob([ray.put(detector)], identity, config, args.explain, threads)
        scan = RayFolderScan(job, settings, resources, args.rescan, announce)
        with StopOnSignals(scan.stop):
            outcomes, pending = scan.run([(video, report_paths(video, args.out, root)) for video in videos])
    finally:
        if started:
            ray.shutdown()
    index_dir = args.out or root
    try:
        write_index(build_index(root, index_dir, outcomes, pending, identity.to_dict(), settings), index_dir)
    except OSError as exc:
        return fail(f"cannot write the index: {exc}")
    return folder_exit(outcomes, len(videos), scan.stopped)
