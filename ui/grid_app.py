"""Entry point of the stream grid: ``run_live.py --streams streams.yaml`` with a display opens it.

Every stream runs on this machine (the threads backend) exactly as a headless ``--streams`` run:
the same tagged JSON lines on stdout, the same alert rules and commands, one summary per stream
when the window closes.
"""

from __future__ import annotations

import argparse
import sys

from realtime.config import EngineConfig


def run_grid(args: argparse.Namespace, config: EngineConfig) -> int:
    """Opens a grid of every stream of ``args.streams``; runs until the window closes; returns the exit code.

    Usage mistakes and sources or models that cannot be opened print one ``error:`` line and
    return non-zero before any window opens. Closing the window (or Ctrl-C / SIGTERM) stops
    every stream, joins the engine threads and prints the per-stream summaries; streams that
    were still running are marked ``interrupted`` there.
    """
    from ui.grid_session import open_grid_session

    session = open_grid_session(args, config)
    if isinstance(session, int):
        return session

    from PyQt5.QtWidgets import QApplication

    from ui.app import closing_on_signals
    from ui.grid_window import GridWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with closing_on_signals() as stopped:
        window = GridWindow(session)
        session.start()
        if not stopped.is_set():  # a signal during start-up closes nothing that is shown yet
            window.show()
            app.exec_()
        window.close()  # stops and joins the engine whatever ended the loop
    signalled = stopped.is_set()
    interrupted = signalled or window.closed_while_running
    return session.finish(interrupted, signalled, bool(getattr(args, "fail_on_interrupt", False)))
