"""The exit codes of every entry point, and the one way an error reaches the user: one ``error:`` line."""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # a mistake in the command line (argparse's code)
EXIT_INTERRUPTED = 130  # Ctrl-C/SIGTERM with --fail-on-interrupt


def print_error(message: str) -> None:
    """``error: message`` on stderr, flushed at once (the process may exit right after)."""
    print(f"error: {message}", file=sys.stderr, flush=True)


def fail(message: str, code: int = EXIT_FAILED) -> int:
    """Prints the error line and returns ``code`` for the caller to exit with."""
    print_error(message)
    return code
