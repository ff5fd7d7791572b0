"""The argument parser of run_live.py: one-line errors, "did you mean" for mistyped flags, defaults in the help."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from typing import NoReturn

from common.exit_codes import EXIT_USAGE, print_error


class HelpWithDefaults(argparse.HelpFormatter):
    """Appends ``(default: X)`` to a flag's help unless the help already says its default.

    Flags that default to None say in words what happens without them; switches default to off.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default is argparse.SUPPRESS or not action.option_strings:
            return text
        if isinstance(action, argparse._StoreTrueAction):
            return f"{text} (default: off)"
        if action.default is None:
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one ``error: ...`` line (exit 2) instead of a usage dump, and that
    suggests the closest flag for an unknown one: ``error: unrecognized argument --treshold (did you mean
    --threshold?)``."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpWithDefaults)
        super().__init__(*args, **kwargs)

    def parse_args(self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None):  # type: ignore[override]
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self.error(self.unrecognized(extras))
        return parsed

    def unrecognized(self, extras: list[str]) -> str:
        """The message for arguments no flag took: the first unknown flag and the closest known one."""
        flags = [option for action in self._actions for option in action.option_strings if option.startswith("--")]
        unknown = next((item for item in extras if item.startswith("-")), extras[0])
        if not unknown.startswith("-"):
            return f"unrecognized argument {unknown} (flags start with --; did you mean --source {unknown}?)"
        name = unknown.split("=", 1)[0]
        close = difflib.get_close_matches(name, flags, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else f" ({self.prog} --help lists the flags)"
        return f"unrecognized argument {name}{hint}"

    def error(self, message: str) -> NoReturn:
        print_error(message)
        sys.exit(EXIT_USAGE)
