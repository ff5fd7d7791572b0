"""Screen-region capture on a real X server (Xvfb), and a clear error without one."""

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest

from realtime.sources.base import SourceError
from realtime.sources.screen import ScreenSource, parse_region


@pytest.fixture
def xvfb_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        if os.environ.get("CI"):
            pytest.fail("Xvfb is missing in CI (Debian package xvfb)")
        pytest.skip("Xvfb is not installed (Debian package xvfb)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        display = ":" + pipe.readline().strip()
    monkeypatch.setenv("DISPLAY", display)
    yield display
    server.terminate()
    server.wait(5)


def test_region_is_captured_at_its_size(xvfb_display):
    source = ScreenSource(parse_region("10,20,320,240"), fps=30.0)
    source.open()
    stop = threading.Event()
    frames = []
    for frame in source.frames(stop):
        frames.append(frame)
        if len(frames) == 5:
            break
    source.close()
    assert [f.image.shape for f in frames] == [(240, 320, 3)] * 5
    assert frames[-1].pts_s > frames[0].pts_s


def test_region_outside_the_screen_is_refused(xvfb_display):
    with pytest.raises(SourceError, match="outside the screen"):
        ScreenSource(parse_region("700,500,320,240")).open()


def test_no_display_is_a_one_line_error(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(SourceError, match="screen capture unavailable") as error:
        ScreenSource(None).open()
    assert "\n" not in str(error.value)
