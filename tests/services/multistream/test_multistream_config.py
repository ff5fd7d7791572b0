"""streams.yaml loading: valid files parse, every kind of mistake gives one clear line."""

import pytest

from app.cli import build_parser, config_from_args
from app.streams import run_streams
from common.exit_codes import EXIT_USAGE
from services.multistream.config import AlertSettings, StreamsConfigError, load_streams


def write(tmp_path, text):
    path = tmp_path / "streams.yaml"
    path.write_text(text)
    return path


def test_a_full_file_parses_with_defaults_and_relative_paths(tmp_path):
    path = write(
        tmp_path,
        """
- name: lobby
  source: rtsp://viewer:pw@cam/main
  threshold: 0.6
  detect_every: 3
  alert: {min_windows: 2, cooldown_s: 5, command: "notify --to 'ops team'"}
- name: archive.1
  source: clips/a.mp4
  alert:
""",
    )
    lobby, archive = load_streams(path)
    assert (lobby.name, lobby.source, lobby.threshold, lobby.detect_every) == (
        "lobby",
        "rtsp://viewer:pw@cam/main",
        0.6,
        3,
    )
    assert lobby.alert == AlertSettings(2, 5.0, ("notify", "--to", "ops team"))
    assert archive.source == str(tmp_path / "clips" / "a.mp4")
    assert (archive.threshold, archive.detect_every, archive.alert) == (None, None, AlertSettings())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a non-empty list of streams"),
        ("name: a\nsource: b.mp4\n", "expected a non-empty list of streams"),
        ("- [a, b]\n", "stream 1: expected a mapping with name and source, got list"),
        ("- {source: a.mp4}\n", "stream 1: name must be 1-64 letters"),
        ("- {name: 'has space', source: a.mp4}\n", "stream 1: name must be"),
        ("- {name: a}\n", "stream 1 (a): source is required"),
        ("- {name: a, source: x.mp4}\n- {name: a, source: y.mp4}\n", "stream 2: name 'a' is used twice"),
        ("- {name: a, source: x.mp4, threshold: 1.5}\n", "threshold must be a number between 0 and 1"),
        ("- {name: a, source: x.mp4, threshold: true}\n", "threshold must be a number between 0 and 1"),
        ("- {name: a, source: x.mp4, detect_every: 0}\n", "detect_every must be a whole number >= 1, got 0"),
        ("- {name: a, source: x.mp4, detect_every: 2.5}\n", "detect_every must be a whole number >= 1"),
        ("- {name: a, source: x.mp4, treshold: 0.5}\n", "stream 1 (a): unknown key 'treshold'"),
        ("- {name: a, source: x.mp4, alert: yes}\n", "alert: expected a mapping"),
        ("- {name: a, source: x.mp4, alert: {min_windows: 0}}\n", "alert: min_windows must be a whole number"),
        ("- {name: a, source: x.mp4, alert: {cooldown_s: -1}}\n", "alert: cooldown_s must be a number >= 0"),
        ("- {name: a, source: x.mp4, alert: {command: 3}}\n", "command must be a string or a list of strings"),
        ('- {name: a, source: x.mp4, alert: {command: "a \'b"}}\n', "command cannot be split"),
        ("- {name: a, source: x.mp4, alert: {mail: x}}\n", "alert: unknown key 'mail'"),
        ("- {nmae: a, source: x.mp4}\n", "stream 1: unknown key 'nmae'"),
        ("- {name: a\n", "not valid YAML at line"),
    ],
)
def test_mistakes_give_one_line_errors_naming_the_stream(tmp_path, text, message):
    with pytest.raises(StreamsConfigError) as caught:
        load_streams(write(tmp_path, text))
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "streams.yaml"))
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(StreamsConfigError, match="cannot read"):
        load_streams(tmp_path / "absent.yaml")


def run(argv):
    args = build_parser().parse_args(argv)
    return run_streams(args, config_from_args(args))


def test_the_command_line_reports_usage_errors_without_starting_anything(tmp_path, capsys):
    bad = write(tmp_path, "- {name: a, source: x.mp4, threshold: 2}\n")
    assert run(["--streams", str(bad)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "threshold must be" in err and err.count("\n") == 1
    good = write(tmp_path, "- {name: a, source: x.mp4}\n")
    assert run(["--streams", str(good), "--address", "head:6379"]) == EXIT_USAGE
    assert "needs --backend ray" in capsys.readouterr().err
    assert run(["--streams", str(good), "--source", "y.mp4"]) == EXIT_USAGE


def test_a_stream_whose_file_is_missing_fails_before_the_model_loads(tmp_path, capsys):
    path = write(tmp_path, "- {name: cam, source: missing.mp4}\n")
    assert run(["--streams", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: stream cam: source not found") and err.count("\n") == 1
