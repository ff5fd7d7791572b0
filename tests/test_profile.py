"""The suite's own guard: caches and window settings resolve inside the run's temporary profile, not ~."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_PROFILE

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_caches_and_settings_resolve_inside_the_temporary_profile():
    from common.paths import cache_dir, onnx_cache_dir

    assert cache_dir().is_relative_to(TEST_PROFILE) and onnx_cache_dir().is_relative_to(TEST_PROFILE)
    assert not str(cache_dir()).startswith(str(Path.home()))


def test_the_window_settings_file_lies_inside_the_temporary_profile():
    # QSettings reads XDG_CONFIG_HOME when it is created: ask a fresh process, as a window would start.
    script = "from ui.recent import default_settings; print(default_settings().fileName())"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).is_relative_to(TEST_PROFILE), out.stdout
