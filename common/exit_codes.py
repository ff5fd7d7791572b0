"""The exit codes of every entry point, and the one way an error reaches the user: one ``error:`` line."""

from __future__ import annotations

import os
import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # a mistake in the command line (argparse's code)
EXIT_INTERRUPTED = 130  # Ctrl-C/SIGTERM with --fail-on-interrupt
EXIT_OUTPUT_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for `yes | head`, whose reader went away


def print_error(message: str) -> None:
    """``error: message`` on stderr, flushed at once (the process may exit right after)."""
    print(f"error: {message}", file=sys.stderr, flush=True)


def fail(message: str, code: int = EXIT_FAILED) -> int:
    """Prints the error line and returns ``code`` for the caller to exit with."""
    print_error(message)
    return code


def output_closed_exit() -> int:
    """The reader of stdout went away: stop quietly, no traceback, the conventional status.

    stdout is pointed at /dev/null first: Python flushes it at exit, which would fail again and
    print a complaint (the advice of Python's documentation on SIGPIPE).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
    return EXIT_OUTPUT_CLOSED
