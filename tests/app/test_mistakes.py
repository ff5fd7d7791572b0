"""Mistakes a user makes on the command line: each answers with one clear line and the right exit code."""

from __future__ import annotations

import io
import shutil

import pytest

from app.cli import build_parser, main
from app.startup import announce_loading, folder_without_scan_error, model_file_error
from services.scan.progress import ProgressBar, eta_text


def run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's errors
        code = exc.code
    return code, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (["--treshold", "0.5"], "error: unrecognized argument --treshold (did you mean --threshold?)"),
        (["--sorce=clip.mp4"], "error: unrecognized argument --sorce (did you mean --source?)"),
        (["--export-vidoe", "x.mp4"], "error: unrecognized argument --export-vidoe (did you mean --export-video?)"),
        (["--zzzz"], "error: unrecognized argument --zzzz (run_live.py --help lists the flags)"),
        (["clip.mp4"], "error: unrecognized argument clip.mp4 (flags start with --; did you mean --source clip.mp4?)"),
    ],
)
def test_a_mistyped_flag_is_one_line_with_a_suggestion(typed, expected, capsys):
    code, err = run(typed, capsys)
    assert code == 2 and one_error_line(err) == expected


def test_other_usage_errors_are_one_line_too(capsys):
    code, err = run(["--window", "-3"], capsys)
    assert code == 2 and "expected a positive integer" in one_error_line(err)
    code, err = run(["--source", "rtsp://cam/x", "--realtime"], capsys)
    assert code == 2 and "--realtime paces video files" in one_error_line(err)


def test_every_flag_has_help_that_says_its_default():
    parser = build_parser()
    formatter = parser._get_formatter()
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        text = formatter._expand_help(action) if action.help else ""
        assert text and "default" in text, f"{action.option_strings[0]}: {text!r}"


def test_a_file_that_is_no_checkpoint_is_named_as_such(tmp_path, small_checkpoint, capsys):
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    code, err = run(["--headless", "--model", str(text)], capsys)
    assert code == 1 and one_error_line(err) == f"error: not a detector checkpoint: {text}"
    assert model_file_error(tmp_path) == f"not a detector checkpoint: {tmp_path}"
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    assert model_file_error(empty) == f"not a detector checkpoint: {empty}"
    assert model_file_error(small_checkpoint) is None  # a real one passes
    assert model_file_error(tmp_path / "missing.pt") is None  # the engine says "model checkpoint not found"


def test_a_folder_of_videos_without_scan_says_to_add_it(tmp_path, one_face_clip, capsys):
    videos = tmp_path / "videos"
    (videos / "sub").mkdir(parents=True)
    shutil.copy(one_face_clip, videos / "sub" / "clip.mp4")
    assert "add --scan --recursive" in folder_without_scan_error(str(videos))
    shutil.copy(one_face_clip, videos / "clip.mp4")
    code, err = run(["--headless", "--source", str(videos)], capsys)
    assert code == 2
    assert (
        one_error_line(err)
        == f"error: {videos} is a folder of videos: add --scan to analyse each one and write reports"
    )
    (videos / "face.png").write_bytes(b"")
    assert folder_without_scan_error(str(videos)) is None  # a folder with images is scored image by image


def test_export_video_implies_scan_and_does_not_mix_with_streams(tmp_path, capsys):
    missing = tmp_path / "missing.mp4"
    code, err = run(["--source", str(missing), "--export-video", str(tmp_path / "out.mp4")], capsys)
    assert code == 1 and err.splitlines() == [
        "note: --export-video implies --scan",
        f"error: source not found: {missing}",  # the scan's own check answered
    ]
    code, err = run(["--streams", "s.yaml", "--export-video", str(tmp_path / "out.mp4")], capsys)
    assert code == 2 and "does not apply to --streams" in one_error_line(err)


@pytest.mark.parametrize("flags", [["--out", "reports"], ["--recursive"], ["--rescan"], ["--explain", "2"]])
def test_flags_of_a_scan_without_scan_are_one_line_not_ignored(flags, one_face_clip, capsys):
    code, err = run(["--source", str(one_face_clip), *flags], capsys)
    assert code == 2 and one_error_line(err) == f"error: {flags[0]} belongs to --scan; add --scan (or drop {flags[0]})"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_loading_line_only_on_a_terminal(small_checkpoint):
    piped, terminal = io.StringIO(), FakeTerminal()
    announce_loading(small_checkpoint, piped)
    announce_loading(small_checkpoint, terminal)
    assert piped.getvalue() == "" and terminal.getvalue() == f"loading model {small_checkpoint} ...\n"


def test_progress_bar_shows_an_eta():
    assert (eta_text(300, 10.0), eta_text(0, 10.0), eta_text(100, 0.0)) == ("0:30", "0:00", "--:--")
    assert eta_text(36_000 + 125, 1.0) == "10:02:05"
    terminal = FakeTerminal()
    bar = ProgressBar(terminal, width=10)
    bar.begin("clip.mp4", 100)
    bar._started -= 5.0  # 50 frames in 5 s: 10 fps, 50 frames to go
    bar.update(50)
    assert "ETA 0:05" in terminal.getvalue()
