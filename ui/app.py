"""Entry point of the live window: ``run_window`` builds the model and the window and runs the Qt event loop."""

from __future__ import annotations

import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from common.exit_codes import EXIT_OK, fail

if TYPE_CHECKING:
    from realtime.engine import Engine
    from ui.window import WindowSettings


@contextmanager
def closing_on_signals() -> Iterator[threading.Event]:
    """While active, Ctrl-C and SIGTERM set the yielded event and close every window like its close button.

    Python runs signal handlers only between bytecodes, never while Qt's C++ event loop waits;
    the wakeup socket makes the loop return to Python as soon as a signal arrives. Needs a
    QApplication.
    """
    from PyQt5.QtCore import QSocketNotifier
    from PyQt5.QtWidgets import QApplication

    stopped = threading.Event()

    def stop(_signum: int, _frame: object) -> None:
        stopped.set()
        QApplication.closeAllWindows()

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Read)
    notifier.activated.connect(lambda _fd: reader.recv(64))
    previous_fd = signal.set_wakeup_fd(writer.fileno())
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopped
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        reader.close()
        writer.close()


def run_window(source_spec: str | None, engine: Engine, settings: WindowSettings | None = None) -> int:
    """Opens the window on ``source_spec`` (None: the demo clip), runs until it is closed; returns the exit code.

    A source that cannot be opened, or that fails before its first frame, prints one ``error:``
    line on stderr and returns non-zero. Ctrl-C and SIGTERM close the window (every engine thread
    is joined) and return 0.
    """
    from PyQt5.QtWidgets import QApplication

    from realtime.output import JsonLinesWriter
    from realtime.sources.base import SourceError
    from ui.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with closing_on_signals() as stopped:
        window = MainWindow(engine, settings)
        writer = JsonLinesWriter(sys.stdout)  # kept referenced: Qt holds bound-method slots weakly
        window.summary_ready.connect(writer.write)  # the summary line of a headless run, on stdout
        failures: list[str] = []

        def source_failed(message: str) -> None:
            failures.append(message)
            window.close()

        window.source_failed.connect(source_failed)
        try:
            window.open_source(source_spec)
        except SourceError as exc:
            window.close_session()
            return fail(str(exc))
        code = EXIT_OK
        if not stopped.is_set():  # a signal during start-up closes nothing that is shown yet
            window.show()
            code = app.exec_()
        window.close_session()  # joins the engine threads whatever ended the loop
    if failures:
        return fail(failures[0])
    window.recent.remember(source_spec)
    return code
