"""How an exception becomes the one-line message users see."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class OutputClosed(Exception):
    """The reader of an output went away (stdout piped into ``head``, which has read enough): the run
    should end quietly, as a command-line filter does."""


def is_closed_pipe(exc: BaseException) -> bool:
    """Whether a write failed because the reading end of a pipe was closed."""
    import errno

    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE)
