"""Crop pacing: which crops of a face the model embeds, decided once per source by the engine builder."""

from dataclasses import replace

import numpy as np
import pytest

from models.spec import ModelSpec
from realtime.config import EngineConfig
from realtime.engine import pacing_for, resolve_settings
from realtime.frames import FaceCrop
from realtime.pacing import CropGate, CropPacing, PacingMode
from realtime.sources.av_source import AvSource
from realtime.sources.images import ImageSource


def crop(track_id: int, pts_s: float) -> FaceCrop:
    return FaceCrop("file", track_id, round(pts_s * 30), pts_s, 0.0, np.zeros((4, 4, 3), np.uint8))


def admitted(gate: CropGate, track_id: int, times: list[float]) -> list[float]:
    return [t for t in times if gate.admit(crop(track_id, t))]


def test_sampling_counts_video_time_without_drift():
    gate = CropGate(CropPacing(PacingMode.SAMPLED, 2.0))
    frames_30fps = [i / 30 for i in range(90)]  # 3 s
    assert admitted(gate, 1, frames_30fps) == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    gate = CropGate(CropPacing(PacingMode.SAMPLED, 3.0))
    frames_25fps = [i / 25 for i in range(75)]
    # Due every 1/3 s: the first frame at or after each due time, and the schedule does not slip.
    assert admitted(gate, 1, frames_25fps) == pytest.approx([0.0, 0.36, 0.68, 1.0, 1.36, 1.68, 2.0, 2.36, 2.68])
    assert gate.passed == 9 and gate.held_back == 66


def test_each_face_has_its_own_schedule_and_a_gap_restarts_it():
    gate = CropGate(CropPacing(PacingMode.SAMPLED, 1.0))
    assert admitted(gate, 1, [0.0, 0.5]) == [0.0]
    assert admitted(gate, 2, [0.5, 1.0, 1.5]) == [0.5, 1.5]
    assert admitted(gate, 1, [4.2, 4.9, 5.2]) == [4.2, 5.2]  # face 1 back after a gap: due a period after
    gate.forget(2)
    assert admitted(gate, 2, [1.6]) == [1.6]  # a new track with a reused id starts afresh


def test_every_and_newest_pass_all_crops_and_newest_asks_for_the_waiting_slot():
    for mode in (PacingMode.EVERY, PacingMode.NEWEST):
        gate = CropGate(CropPacing(mode))
        assert admitted(gate, 1, [0.0, 0.01, 0.02]) == [0.0, 0.01, 0.02]
        assert gate.newest_only == (mode is PacingMode.NEWEST)
    with pytest.raises(ValueError):
        CropPacing(PacingMode.SAMPLED, 0.0)


def test_the_engine_paces_an_expensive_model_on_a_cpu_and_nothing_on_a_gpu(one_face_clip, tmp_path):
    clip_spec = ModelSpec(crops_per_second=2.0)
    cnn_spec = ModelSpec()
    config = EngineConfig()
    live = AvSource(str(one_face_clip), live=True)
    file = AvSource(str(one_face_clip), live=False)
    (tmp_path / "a.png").write_bytes(b"")
    images = ImageSource(tmp_path)
    assert pacing_for(live, config, clip_spec, "cpu") == CropPacing(PacingMode.NEWEST)
    assert pacing_for(file, config, clip_spec, "cpu") == CropPacing(PacingMode.SAMPLED, 2.0)
    assert pacing_for(file, replace(config, crops_per_second=5.0), clip_spec, "cpu").crops_per_second == 5.0
    assert pacing_for(file, replace(config, realtime=True), clip_spec, "cpu").mode is PacingMode.NEWEST
    assert pacing_for(images, config, clip_spec, "cpu") == CropPacing()
    assert pacing_for(file, config, cnn_spec, "cpu") == CropPacing()  # a cheap model embeds every crop
    assert pacing_for(live, config, clip_spec, "cuda") == CropPacing()  # as does a GPU
    # Windows slide at every embedded crop where crops are paced, every 3 crops where all are embedded.
    assert resolve_settings(config, clip_spec, "cpu").stride == 1
    assert resolve_settings(config, clip_spec, "cuda").stride == 3
    assert resolve_settings(replace(config, stride=2), clip_spec, "cpu").stride == 2
