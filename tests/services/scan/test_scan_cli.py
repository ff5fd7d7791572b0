"""run_scan's answers to user mistakes: exit 1 and one ``error:`` line, no traceback, nothing written."""

from __future__ import annotations

import argparse
import io

import pytest

from app.cli import build_parser, config_from_args
from app.scan import add_scan_arguments, run_scan
from services.scan.progress import ProgressBar


def scan(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_scan(args.source, args.model, config_from_args(args), args)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scan"], "--scan needs --source"),
        (["--scan", "--source", "rtsp://user:secret@cam/stream"], "recorded files"),
        (["--scan", "--source", "MISSING.mp4"], "source not found"),
        (["--scan", "--source", "{folder}", "--export-video", "{folder}/out.mp4"], "single video file"),
        (["--scan", "--source", "{clip}", "--export-video", "{folder}/out.avi"], ".mp4, .mkv or .mov"),
        (["--scan", "--source", "{clip}", "--export-video", "{clip}"], "overwrite the source"),
        (["--scan", "--source", "{clip}", "--realtime"], "--realtime"),
        (["--scan", "--source", "{text}"], "not a video file"),
        (["--scan", "--source", "{clip}", "--backend", "ray"], "--backend ray spreads the files of a folder"),
        (["--scan", "--source", "{folder}", "--backend", "ray", "--export-video", "{folder}/o.mp4"], "single video"),
    ],
)
def test_mistakes_answer_with_one_error_line(argv, message, one_face_clip, tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    values = {"folder": str(tmp_path), "clip": str(one_face_clip), "text": str(text)}
    code = scan([a.format(**values) for a in argv])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert "secret" not in err and not list(tmp_path.glob("*.deepfake.*"))


def test_scan_flags_parse_with_their_defaults():
    parser = argparse.ArgumentParser()
    add_scan_arguments(parser)
    args = parser.parse_args(["--scan", "--out", "reports", "--recursive", "--export-video", "x.mp4", "--explain", "0"])
    assert args.scan and args.recursive and str(args.out) == "reports" and args.explain == 0 and not args.rescan
    with pytest.raises(SystemExit):
        parser.parse_args(["--explain", "-1"])


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_only_on_a_terminal():
    piped, terminal = io.StringIO(), FakeTerminal()
    for stream in (piped, terminal):
        bar = ProgressBar(stream, width=10)
        bar.begin("1/2 clip.mp4", 100)
        bar.update(50)
        bar.end()
    assert piped.getvalue() == ""
    drawn = terminal.getvalue()
    assert "[#####-----]  50%" in drawn and "1/2 clip.mp4" in drawn and drawn.endswith("\r\x1b[K")
