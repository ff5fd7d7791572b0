"""Shared fixtures: generated face clips and a small checkpoint."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# The suite never writes into the user's profile: caches (demo clip, ONNX exports) and the window's
# settings go to a temporary home of this run, inherited by every subprocess a test starts. A second
# execution of this module (``from tests.conftest import ...`` imports it again beside pytest's own
# ``conftest``) keeps that home: a new one would take the caches and be left behind, 1.4 GB per run.
_PROFILE_VARIABLE = "DEEPFAKE_ANALYZER_TEST_PROFILE"
_OWNS_PROFILE = _PROFILE_VARIABLE not in os.environ
if _OWNS_PROFILE:
    os.environ[_PROFILE_VARIABLE] = tempfile.mkdtemp(prefix="deepfake-analyzer-tests-")
TEST_PROFILE = Path(os.environ[_PROFILE_VARIABLE])
os.environ["XDG_CACHE_HOME"] = str(TEST_PROFILE / "cache")
os.environ["XDG_CONFIG_HOME"] = str(TEST_PROFILE / "config")
os.environ.pop("DEEPFAKE_ANALYZER_CACHE", None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _OWNS_PROFILE:
        shutil.rmtree(TEST_PROFILE, ignore_errors=True)


@pytest.fixture(scope="session")
def one_face_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s, 25 fps, 640x360 H.264: one real face gliding across the frame."""
    from realtime.sources.demo import render_face_frames, write_video

    return write_video(tmp_path_factory.mktemp("clips") / "one_face.mp4", render_face_frames(75))


@pytest.fixture(scope="session")
def two_face_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s, two faces side by side (the portrait and its mirror image), 800x360."""
    from realtime.sources.demo import render_face_frames, write_video

    left = render_face_frames(50, width=400, height=360, phase=0.0)
    right = render_face_frames(50, width=400, height=360, phase=1.5)
    frames = [np.concatenate([a, b[:, ::-1]], axis=1) for a, b in zip(left, right, strict=True)]
    return write_video(tmp_path_factory.mktemp("clips") / "two_faces.mp4", frames)


@pytest.fixture(scope="session")
def face_leaves_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s of a face, then 1 s of empty background: the face's track must end."""
    from realtime.sources.demo import render_face_frames, write_video

    frames = render_face_frames(25)
    frames += [np.full_like(frames[0], 90) for _ in range(25)]
    return write_video(tmp_path_factory.mktemp("clips") / "face_leaves.mp4", frames)


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained detector at 96 px (fast on CPU) saved in the project's checkpoint format."""
    from models.checkpoint import save_checkpoint
    from models.registry import untrained_model

    loaded = untrained_model(window=8)
    spec = replace(loaded.spec, input_size=96)
    path = tmp_path_factory.mktemp("models") / "untrained_small.pt"
    save_checkpoint(path, loaded.model, spec, half_precision=True)
    return path


@pytest.fixture(scope="session")
def trained_small_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small detector marked trained, with a hand-made evaluation in its spec (a fixture, not a result)."""
    from tests.support.checkpoints import save_trained_small_checkpoint

    return save_trained_small_checkpoint(tmp_path_factory.mktemp("models") / "trained_small.pt")


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs for the tests of one module (Ray starts slowly: share it within a module)."""
    ray = pytest.importorskip("ray")
    from services.ray_cluster import runtime_env

    ray.init(num_cpus=2, include_dashboard=False, runtime_env=runtime_env(None), log_to_driver=False)
    yield ray
    ray.shutdown()
