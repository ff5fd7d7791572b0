"""Wires sources, face stages and the inference worker into threads, and stops them cleanly."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from faces.detector import FaceDetector
from realtime.capture import CaptureThread
from realtime.config import EngineConfig
from realtime.face_stage import CropSettings, FaceStage, FaceStageResult
from realtime.frame_queue import BoundedQueue, DropPolicy, QueueClosed
from realtime.frames import AnalyzedFrame, Frame, Verdict
from realtime.inference import (
    InferenceMessage,
    InferenceWorker,
    ScoringSettings,
    StreamEnded,
    TrackEnded,
)
from realtime.scorers import Scorer
from realtime.sources.base import FrameSource, SourceHealth

JOIN_TIMEOUT_S = 5.0
SIGNAL_CHECK_S = 0.2  # longest a pending signal handler waits for the main thread


@dataclass
class StreamStats:
    """Counters of one source, read after (or during) a run."""

    name: str
    frames_read: int = 0
    frames_dropped: int = 0
    frames_analyzed: int = 0
    faces_seen: int = 0
    faces_capped: int = 0
    detections_run: int = 0
    error: str | None = None
    skipped_images: list[str] = field(default_factory=list)
    outages: list[dict[str, object]] = field(default_factory=list)  # [{start_s, end_s, reason}] of streams
    reconnects: int = 0
    decode_errors: int = 0  # damaged packets skipped in files
    decode_gaps: list[list[float | None]] = field(default_factory=list)  # [start_s, end_s] lost to them

    def with_health(self, health: SourceHealth) -> StreamStats:
        """These counters completed with what the source reports about itself."""
        return dataclasses.replace(
            self,
            skipped_images=list(health.skipped_images),
            outages=[dict(outage) for outage in health.outages],
            reconnects=health.reconnects,
            decode_errors=health.decode_errors,
            decode_gaps=[list(gap) for gap in health.decode_gaps],
        )


def build_face_stage(
    source: FrameSource, config: EngineConfig, crop: CropSettings, detect_every: int | None = None
) -> FaceStage:
    """The face stage of one source; every per-stream analyzer (threads or Ray) builds it here.

    Still images are unrelated pictures: each is searched for faces on its own (detection on every
    frame, no motion between frames). Live sources track faces between detections; recorded files
    may interpolate them (``config.face_motion``). ``detect_every`` overrides the configuration's (a
    stream's own setting).
    """
    detector = FaceDetector(config.detector_model, config.detect_max_side, landmarks=crop.aligned)
    if source.still_images or not config.track_motion:
        motion = "none"
    else:
        motion = "track" if source.is_live else config.face_motion
    return FaceStage(
        source.name,
        detector,
        crop,
        detect_every=1 if source.still_images else detect_every or config.detect_every,
        max_faces=config.max_faces,
        motion=motion,
    )


def stream_stats(
    source: FrameSource,
    stage: FaceStage,
    capture: CaptureThread,
    frames: BoundedQueue[Frame],
    frames_analyzed: int,
) -> StreamStats:
    """The counters of one per-stream analyzer (threads or Ray) with its source's health."""
    follower = stage.follower
    return StreamStats(
        name=source.name,
        frames_read=capture.frames_read,
        frames_dropped=frames.dropped,
        frames_analyzed=frames_analyzed,
        faces_seen=len(follower.track_ids_seen),
        faces_capped=follower.tracker.faces_capped,
        detections_run=follower.detections_run,
        error=capture.error,
    ).with_health(source.health())


def frame_queue(source: FrameSource, config: EngineConfig) -> BoundedQueue[Frame]:
    """The bounded queue between a source's capture and its face stage: live sources keep the newest."""
    policy = DropPolicy.KEEP_NEWEST if source.is_live else DropPolicy.NEVER
    return BoundedQueue[Frame](config.frame_queue_size, policy)


class FaceThread(threading.Thread):
    """Takes frames of one source, runs its face stage, sends crops and track ends onward."""

    def __init__(
        self,
        stage: FaceStage,
        frames_in: BoundedQueue[Frame],
        inbox: BoundedQueue[InferenceMessage],
        stop: threading.Event,
        on_frame: Callable[[AnalyzedFrame], None] | None = None,
    ) -> None:
        super().__init__(name=f"faces[{stage.source_name}]", daemon=True)
        self.stage = stage
        self.frames_in = frames_in
        self.inbox = inbox
        self.stop_event = stop
        self.on_frame = on_frame
        self.frames_analyzed = 0

    def run(self) -> None:
        source = self.stage.source_name
        try:
            while not self.stop_event.is_set():
                frame = self.frames_in.get()
                if frame is None:
                    break
                for result in self.stage.process(frame):
                    self._deliver(result)
            held, ended = self.stage.finish()
            for result in held:
                self._deliver(result)
            for track_id in ended:
                self.inbox.put(TrackEnded(source, track_id))
            self.inbox.put(StreamEnded(source))
        except QueueClosed:
            pass  # inference ended (stopped or failed); nothing more to deliver
        finally:
            # Unblock the capture thread if we stopped before its end of stream.
            self.frames_in.close()

    def _deliver(self, result: FaceStageResult) -> None:
        """One analysed frame: to the display tap, then its track ends and crops to inference, in order."""
        source = self.stage.source_name
        self.frames_analyzed += 1
        if self.on_frame is not None:
            self.on_frame(AnalyzedFrame(source, result.frame, tuple(result.faces)))
        for track_id in result.ended_tracks:
            self.inbox.put(TrackEnded(source, track_id))
        for crop in result.crops:
            self.inbox.put(crop)


class StreamAnalyzer:
    """Capture thread + face thread of one source."""

    def __init__(
        self,
        source: FrameSource,
        config: EngineConfig,
        crop: CropSettings,
        inbox: BoundedQueue[InferenceMessage],
        stop: threading.Event,
        on_frame: Callable[[AnalyzedFrame], None] | None = None,
        detect_every: int | None = None,
    ) -> None:
        self.source = source
        self.frames = frame_queue(source, config)
        stage = build_face_stage(source, config, crop, detect_every)
        self.capture = CaptureThread(source, self.frames, stop)
        self.faces = FaceThread(stage, self.frames, inbox, stop, on_frame)

    def start(self) -> None:
        self.capture.start()
        self.faces.start()

    def join(self, timeout_s: float) -> None:
        for thread in (self.faces, self.capture):
            if thread.ident is not None:  # a stream closed before it started has nothing to join
                thread.join(timeout_s)

    def stats(self) -> StreamStats:
        return stream_stats(self.source, self.faces.stage, self.capture, self.frames, self.faces.frames_analyzed)


class Pipeline:
    """Runs one or more sources through one shared inference worker until they end or stop()."""

    def __init__(
        self,
        sources: list[FrameSource],
        scorer: Scorer,
        config: EngineConfig,
        settings: ScoringSettings,
        crop: CropSettings,
        on_verdict: Callable[[Verdict], None],
        on_frame: Callable[[AnalyzedFrame], None] | None = None,
        detect_every: list[int | None] | None = None,
    ) -> None:
        """Built by :meth:`realtime.engine.Engine.pipeline`. ``on_verdict`` runs on the inference thread,
        ``on_frame`` on each source's face thread; ``detect_every`` gives sources their own detection rate."""
        if all(source.still_images for source in sources):
            # Unrelated pictures: each is scored on its own, a window of one.
            settings = dataclasses.replace(settings, window=1, stride=1)
        self.settings = settings
        self.stop_event = threading.Event()
        self.inbox = BoundedQueue[InferenceMessage](config.crop_queue_size, DropPolicy.NEVER)
        rates = detect_every or [None] * len(sources)
        self.streams = [
            StreamAnalyzer(source, config, crop, self.inbox, self.stop_event, on_frame, rate)
            for source, rate in zip(sources, rates, strict=True)
        ]
        self.inference = InferenceWorker(scorer, self.settings, self.inbox, on_verdict, len(sources))

    def start(self) -> None:
        self.inference.start()
        for stream in self.streams:
            stream.start()

    def wait(self) -> None:
        """Blocks until every source ended and every verdict was delivered.

        Joins in short slices: a SIGINT/SIGTERM the kernel hands to another thread only sets a
        flag, and Python runs the handler when the main thread next wakes, so an unbounded join
        could leave Ctrl-C unanswered while a stream keeps flowing.
        """
        while self.inference.is_alive():
            self.inference.join(SIGNAL_CHECK_S)

    def stop(self) -> None:
        """Stops capture now; crops already queued are still scored so no result is lost."""
        self.stop_event.set()
        for stream in self.streams:
            stream.frames.close()

    def join(self, timeout_s: float = JOIN_TIMEOUT_S) -> bool:
        """Joins every thread; True when all ended within the timeout."""
        for stream in self.streams:
            stream.join(timeout_s)
        if self.inference.ident is not None:
            self.inference.join(timeout_s)
        return not any(t.is_alive() for t in self.threads())

    def threads(self) -> list[threading.Thread]:
        return [self.inference] + [t for s in self.streams for t in (s.capture, s.faces)]

    def stats(self) -> list[StreamStats]:
        return [stream.stats() for stream in self.streams]
