"""Crop-cache extraction: frame sampling, training crops identical to the live engine's, rotated clips upright."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest

from faces.crops import crop_from_canvas
from faces.detector import FaceDetector
from realtime.face_stage import FaceStage
from realtime.sources.av_source import AvSource
from realtime.sources.demo import render_face_frames
from tests.support.data import shared_clip
from tests.support.rotated import rotated_clip
from training.data.crop_cache import PrepareConfig, clip_arrays_path, read_config, read_index, remove_index
from training.data.prepare import CropExtractor, extract_clip, prepare_cache, sampled_frame_indices
from training.data.readers import MediaRecord

CONFIG = PrepareConfig(canvas_size=128, input_size=64, segment_length=8, segments_per_video=2)


def record(path: Path, label: str = "real") -> MediaRecord:
    return MediaRecord(path, label, "video", "none", "test", "test", path.stem, path.stem)


def live_faces(path: Path, frames: int) -> list:
    """What the engine's face stage makes of the first ``frames`` frames of ``path`` with the cache's settings."""
    source = AvSource(str(path), live=False)
    stage = FaceStage("clip", FaceDetector(max_side=CONFIG.detector_max_side, landmarks=False), CONFIG.crop)
    source.open()
    try:
        results = [
            result
            for frame, _ in zip(source.frames(threading.Event()), range(frames), strict=False)
            for result in stage.process(frame)
        ]
    finally:
        source.close()
    return [result.crops for result in results]


def test_sampled_frame_indices() -> None:
    assert sampled_frame_indices(100, 16, 3) == [list(range(0, 16)), list(range(42, 58)), list(range(84, 100))]
    assert sampled_frame_indices(10, 16, 4) == [list(range(10))]
    assert sampled_frame_indices(32, 16, 6) == [list(range(16)), list(range(16, 32))]
    assert sampled_frame_indices(0, 16, 4) == []


def test_a_training_crop_is_the_live_crop_of_the_same_frame(one_face_clip: Path) -> None:
    arrays, descriptor = extract_clip(CropExtractor(CONFIG), record(one_face_clip))
    assert arrays["crops"].shape[1:] == (128, 128, 3) and arrays["landmarks"].shape[1:] == (68, 2)
    assert descriptor is not None and len(descriptor) == 128
    first = arrays["segment"] == 0
    assert list(arrays["frame_index"][first]) == list(range(8))  # the first segment starts the clip, as a stream
    live = live_faces(one_face_clip, 8)
    for position in np.flatnonzero(first):
        (crop,) = live[int(arrays["frame_index"][position])]
        np.testing.assert_array_equal(arrays["crops"][position], crop.canvas)
        derived = crop_from_canvas(arrays["crops"][position], arrays["canvas_side"][position], CONFIG.input_size)
        np.testing.assert_array_equal(derived, crop.crop)
    # Landmarks sit on the face in the middle of the canvas.
    centre = arrays["landmarks"][first].mean(axis=1)
    assert np.abs(centre - 64).max() < 24


def test_rotated_phone_clips_are_cut_upright(tmp_path: Path) -> None:
    clip = rotated_clip(tmp_path, render_face_frames(20))
    arrays, _ = extract_clip(CropExtractor(CONFIG), record(clip))
    assert len(arrays["crops"]) >= 8, "the upright face must be found and followed"
    # Upright: the eyes (36-47) lie above the mouth (48-67) in every crop.
    landmarks = arrays["landmarks"]
    assert np.all(landmarks[:, 36:48, 1].mean(axis=1) < landmarks[:, 48:68, 1].mean(axis=1))
    (crop,) = live_faces(clip, 1)[0]
    np.testing.assert_array_equal(arrays["crops"][0], crop.canvas)


def test_a_second_run_keeps_the_clips_of_the_first(tmp_path: Path, one_face_clip: Path) -> None:
    out = tmp_path / "cache"
    first = prepare_cache([record(one_face_clip)], out, CONFIG, workers=1)
    clip_file = clip_arrays_path(out, first[0].clip_id)
    written = clip_file.stat().st_mtime_ns
    again = prepare_cache([record(one_face_clip)], out, CONFIG, workers=1)
    assert again == first == read_index(out) and clip_file.stat().st_mtime_ns == written


def test_a_run_cut_short_resumes_from_the_clips_it_finished(tmp_path: Path, one_face_clip: Path) -> None:
    out = tmp_path / "cache"
    first = prepare_cache([record(one_face_clip)], out, CONFIG, workers=1)
    remove_index(out)  # killed before the index was written
    clip_file = clip_arrays_path(out, first[0].clip_id)
    written = clip_file.stat().st_mtime_ns
    assert prepare_cache([record(one_face_clip)], out, CONFIG, workers=1) == first
    assert clip_file.stat().st_mtime_ns == written


def test_clips_made_with_other_settings_are_made_again(tmp_path: Path, one_face_clip: Path) -> None:
    out = tmp_path / "cache"
    prepare_cache([record(one_face_clip)], out, dataclasses.replace(CONFIG, face_motion="dlib_correlation"), workers=1)
    remove_index(out)
    clip_file = next((out / "clips").glob("*.npz"))
    written = clip_file.stat().st_mtime_ns
    prepare_cache([record(one_face_clip)], out, CONFIG, workers=1)
    assert clip_file.stat().st_mtime_ns != written and read_config(out) == CONFIG


@pytest.mark.slow
def test_real_footage_gives_a_followed_face_per_segment() -> None:
    path = shared_clip("real", "OpenTalker__video-retalking")
    arrays, descriptor = extract_clip(CropExtractor(CONFIG), record(path))
    assert set(arrays["segment"]) == {0, 1} and len(arrays["crops"]) >= 12
    assert descriptor is not None
