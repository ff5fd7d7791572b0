"""The stream grid's event loop: ``run_live.py --streams streams.yaml`` with a display opens it.

Every stream runs on this machine (the threads backend) exactly as a headless ``--streams`` run:
the same tagged JSON lines on stdout, the same alert rules and commands, one summary per stream
when the window closes.
"""

from __future__ import annotations

import sys

from ui.grid_session import GridSession


def run_grid(session: GridSession) -> tuple[bool, bool]:
    """Shows a grid of every stream of ``session``, runs it until the window closes and stops it.

    Closing the window (or Ctrl-C / SIGTERM) stops every stream and joins the engine threads.
    Returns (interrupted, signalled): whether streams were cut short (their summaries say so) and
    whether by a signal.
    """
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
    return signalled or window.closed_while_running, signalled
