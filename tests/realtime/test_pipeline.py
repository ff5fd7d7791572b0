"""The threaded engine end to end: real decode, real faces, real model forward passes."""

import itertools
import threading

from realtime.config import EngineConfig
from realtime.engine import build_engine
from realtime.pipeline import JOIN_TIMEOUT_S
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


def test_stop_mid_stream_unblocks_and_ends_every_thread_and_scores_what_was_analysed(one_face_clip, small_checkpoint):
    # The face thread is held inside its frame callback at frame 10, so the capture fills its queue and blocks:
    # stop() must end a capture blocked on a full queue, a face thread in the middle of a frame and the
    # inference thread, with no frame read after the queue was full and no frame analysed after the stop.
    reached, stopped = threading.Event(), threading.Event()

    def hold_at_frame_10(analyzed):
        if analyzed.frame.index == 10:
            reached.set()
            stopped.wait(JOIN_TIMEOUT_S)

    source = AvSource(str(one_face_clip), live=False)
    pipeline, verdicts = build([source], small_checkpoint, on_frame=hold_at_frame_10)
    pipeline.start()
    assert reached.wait(60), "frame 10 never reached the face stage"
    pipeline.stop()
    stopped.set()
    assert pipeline.join(JOIN_TIMEOUT_S), [t.name for t in pipeline.threads() if t.is_alive()]
    stats = pipeline.stats()[0]
    assert stats.frames_analyzed == 11  # frames 0 to 10: the one in hand was finished, none taken after
    assert 11 <= stats.frames_read <= 11 + EngineConfig().frame_queue_size  # the capture stopped at its full queue
    # Crops sent before the stop are still scored: windows of frames up to 10, none beyond.
    assert verdicts and all(v.last_frame <= 10 for v in verdicts)
    assert not [t for t in threading.enumerate() if t.name.startswith(("capture[", "faces[", "inference"))]
