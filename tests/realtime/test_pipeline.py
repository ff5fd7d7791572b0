"""The threaded engine end to end: real decode, real faces, real model forward passes."""

import itertools
import threading
import time

from realtime.config import EngineConfig
from realtime.engine import build_engine
from realtime.sources.av_source import AvSource


def build(sources, checkpoint, on_frame=None, **overrides):
    verdicts = []
    engine = build_engine(EngineConfig(device="cpu", torch_threads=1, runtime="torch", **overrides), checkpoint)
    return engine.pipeline(sources, verdicts.append, on_frame), verdicts


def test_file_produces_sliding_window_verdicts_for_its_face(one_face_clip, small_checkpoint):
    shown = []
    source = AvSource(str(one_face_clip), live=False)
    pipeline, verdicts = build([source], small_checkpoint, on_frame=shown.append, stride=4)
    pipeline.start()
    pipeline.wait()
    assert pipeline.join(1.0)
    stats = pipeline.stats()[0]
    assert stats.frames_read == stats.frames_analyzed == 75 and stats.frames_dropped == 0
    assert {v.track_id for v in verdicts} == {1}
    assert all(v.window_frames == 8 and v.last_frame - v.first_frame >= 7 for v in verdicts)
    ends = [v.last_frame for v in verdicts]
    assert ends == sorted(ends) and all(b - a >= 4 for a, b in itertools.pairwise(ends))
    assert len(verdicts) >= 14  # (75 - 8) / 4 + 1 windows when the face is found in every frame
    assert all(0.0 <= v.p_fake <= 1.0 and v.label == "untrained" and v.latency_ms >= 0 for v in verdicts)
    assert pipeline.inference.crops_embedded >= 70
    # Displays get every frame in order with the tracked face's box on the face.
    assert [f.frame.index for f in shown] == list(range(75))
    boxed = [f for f in shown if f.faces]
    assert len(boxed) >= 70 and all(f.faces[0].track_id == 1 and f.faces[0].box.width > 60 for f in boxed)


def test_windows_are_batched_across_two_streams(one_face_clip, two_face_clip, small_checkpoint):
    sources = [AvSource(str(one_face_clip), live=False), AvSource(str(two_face_clip), live=False)]
    pipeline, verdicts = build(sources, small_checkpoint)
    pipeline.start()
    pipeline.wait()
    assert pipeline.join(1.0)
    by_source = {}
    for v in verdicts:
        by_source.setdefault(v.source, set()).add(v.track_id)
    assert by_source == {str(one_face_clip): {1}, str(two_face_clip): {1, 2}}


def test_every_thread_joins_within_a_second_of_stop(one_face_clip, small_checkpoint):
    # A paced (live-like) file would run for 3 s; stop it early.
    pipeline, _verdicts = build([AvSource(str(one_face_clip), live=False, realtime=True)], small_checkpoint)
    pipeline.start()
    time.sleep(1.0)
    stopped_at = time.monotonic()
    pipeline.stop()
    assert pipeline.join(1.0), [t.name for t in pipeline.threads() if t.is_alive()]
    assert time.monotonic() - stopped_at < 1.0
    assert pipeline.stats()[0].frames_read < 75
    assert not [t for t in threading.enumerate() if t.name.startswith(("capture[", "faces[", "inference"))]
