"""Wires sources, face stages and the inference worker into threads, and stops them cleanly."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from common.errors import first_line
from faces.detector import FaceDetector
from realtime.capture import CaptureThread
from realtime.config import EngineConfig
from realtime.face_stage import CropSettings, FaceStage, FaceStageResult
from realtime.frame_queue import BoundedQueue, DropPolicy, QueueClosed
from realtime.frames import AnalyzedFrame, FaceCrop, Frame
from realtime.inbox import InferenceInbox
from realtime.inference import InferenceWorker, ScoringSettings
from realtime.messages import StreamEnded, TrackEnded
from realtime.pacing import CropGate, CropPacing
from realtime.scorers import Scorer
from realtime.sinks import Sinks, SinkThread, report_sink_failure
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
    timestamp_gaps: list[list[float]] = field(default_factory=list)  # [start_s, end_s] the source skipped

    def with_health(self, health: SourceHealth) -> StreamStats:
        """These counters completed with what the source reports about itself."""
        return dataclasses.replace(
            self,
            skipped_images=list(health.skipped_images),
            outages=[dict(outage) for outage in health.outages],
            reconnects=health.reconnects,
            decode_errors=health.decode_errors,
            decode_gaps=[list(gap) for gap in health.decode_gaps],
            timestamp_gaps=[list(gap) for gap in health.timestamp_gaps],
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


class FacePort(Protocol):
    """Where one source's face loop delivers what it found, in frame order: the inference inbox of this
    process (:class:`InboxPort`), or a Ray stream actor's sender to its inference actor."""

    def deliver(self, result: FaceStageResult, crops: list[FaceCrop]) -> None:
        """One analysed frame: its ended tracks, then the crops the pacing admitted."""
        ...

    def finish(self, ended_tracks: list[int]) -> None:
        """The end of the stream: every track still open ended."""
        ...


class InboxPort:
    """Delivers into this process's inference inbox: crops in order, or as their face's newest crop."""

    def __init__(self, source: str, inbox: InferenceInbox, newest_only: bool) -> None:
        self.source = source
        self.inbox = inbox
        self.newest_only = newest_only

    def deliver(self, result: FaceStageResult, crops: list[FaceCrop]) -> None:
        for track_id in result.ended_tracks:
            self.inbox.put(TrackEnded(self.source, track_id))
        for crop in crops:
            if self.newest_only:
                self.inbox.offer(crop)
            else:
                self.inbox.put(crop)

    def finish(self, ended_tracks: list[int]) -> None:
        for track_id in ended_tracks:
            self.inbox.put(TrackEnded(self.source, track_id))
        self.inbox.put(StreamEnded(self.source))


class FaceLoop:
    """One source's face loop, written once for the threads pipeline and the Ray stream actors:
    frames -> face stage -> the display tap -> the crop pacing -> the port."""

    def __init__(
        self,
        stage: FaceStage,
        gate: CropGate,
        port: FacePort,
        on_frame: Callable[[AnalyzedFrame], None] | None = None,
    ) -> None:
        self.stage = stage
        self.gate = gate
        self.port = port
        self.on_frame = on_frame
        self.frames_analyzed = 0
        self.tap_error: str | None = None  # why the display tap was dropped

    def run(self, frames: Iterable[Frame], stop: threading.Event) -> None:
        """Analyses ``frames`` until they end or ``stop`` is set, then ends every track and the stream."""
        for frame in frames:
            for result in self.stage.process(frame):
                self._deliver(result)
            if stop.is_set():
                break
        held, ended = self.stage.finish()
        for result in held:
            self._deliver(result)
        self.port.finish(ended)

    def _deliver(self, result: FaceStageResult) -> None:
        self.frames_analyzed += 1
        if self.on_frame is not None and self.tap_error is None:
            self._tap(AnalyzedFrame(self.stage.source_name, result.frame, tuple(result.faces)))
        for track_id in result.ended_tracks:
            self.gate.forget(track_id)
        self.port.deliver(result, [crop for crop in result.crops if self.gate.admit(crop)])

    def _tap(self, analyzed: AnalyzedFrame) -> None:
        """Hands the frame to the display; a display that raises is reported once and left out."""
        assert self.on_frame is not None
        try:
            self.on_frame(analyzed)
        except Exception as exc:  # the display's bug must not stop the analysis
            self.tap_error = f"{type(exc).__name__}: {first_line(exc)}"
            report_sink_failure(f"frame display of {self.stage.source_name}", self.tap_error)


class FaceThread(threading.Thread):
    """Runs one source's face loop on the frames its capture thread decodes."""

    def __init__(self, loop: FaceLoop, frames_in: BoundedQueue[Frame], stop: threading.Event) -> None:
        super().__init__(name=f"faces[{loop.stage.source_name}]", daemon=True)
        self.loop = loop
        self.stage = loop.stage
        self.frames_in = frames_in
        self.stop_event = stop

    @property
    def frames_analyzed(self) -> int:
        return self.loop.frames_analyzed

    def run(self) -> None:
        try:
            self.loop.run(iter(self.frames_in.get, None), self.stop_event)
        except QueueClosed:
            pass  # inference ended (stopped or failed); nothing more to deliver
        finally:
            # Unblock the capture thread if we stopped before its end of stream.
            self.frames_in.close()


class StreamAnalyzer:
    """Capture thread + face thread of one source."""

    def __init__(
        self,
        source: FrameSource,
        config: EngineConfig,
        crop: CropSettings,
        pacing: CropPacing,
        inbox: InferenceInbox,
        stop: threading.Event,
        on_frame: Callable[[AnalyzedFrame], None] | None = None,
        detect_every: int | None = None,
    ) -> None:
        self.source = source
        self.frames = frame_queue(source, config)
        gate = CropGate(pacing)
        loop = FaceLoop(
            build_face_stage(source, config, crop, detect_every),
            gate,
            InboxPort(source.name, inbox, gate.newest_only),
            on_frame,
        )
        self.capture = CaptureThread(source, self.frames, stop)
        self.faces = FaceThread(loop, self.frames, stop)

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
        sinks: Sinks,
        on_frame: Callable[[AnalyzedFrame], None] | None = None,
        detect_every: list[int | None] | None = None,
        pacing: list[CropPacing] | None = None,
    ) -> None:
        """Built by :meth:`realtime.engine.Engine.pipeline`. ``sinks`` (a callable, or named sinks) run on
        a thread of their own, ``on_frame`` on each source's face thread; ``detect_every`` gives sources
        their own detection rate, ``pacing`` which of their crops the model embeds (default: every one)."""
        if all(source.still_images for source in sources):
            # Unrelated pictures: each is scored on its own, a window of one.
            settings = dataclasses.replace(settings, window=1, stride=1)
        self.settings = settings
        self.stop_event = threading.Event()
        self.inbox = InferenceInbox(config.crop_queue_size)
        self.sinks = SinkThread(sinks, on_output_closed=self.abandon)
        rates = detect_every or [None] * len(sources)
        pacings = pacing or [CropPacing()] * len(sources)
        self.streams = [
            StreamAnalyzer(source, config, crop, source_pacing, self.inbox, self.stop_event, on_frame, rate)
            for source, rate, source_pacing in zip(sources, rates, pacings, strict=True)
        ]
        self.inference = InferenceWorker(
            scorer, self.settings, self.inbox, self.sinks.put, len(sources), on_end=self.sinks.finish
        )

    def start(self) -> None:
        self.sinks.start()
        self.inference.start()
        for stream in self.streams:
            stream.start()

    def wait(self) -> None:
        """Blocks until every source ended and every verdict was delivered to the sinks.

        Joins in short slices: a SIGINT/SIGTERM the kernel hands to another thread only sets a
        flag, and Python runs the handler when the main thread next wakes, so an unbounded join
        could leave Ctrl-C unanswered while a stream keeps flowing.
        """
        for thread in (self.inference, self.sinks):
            while thread.is_alive():
                thread.join(SIGNAL_CHECK_S)

    def finished(self, timeout_s: float) -> bool:
        """Waits up to ``timeout_s`` for every source to end and every verdict to reach the sinks."""
        for thread in (self.inference, self.sinks):
            thread.join(timeout_s)
            if thread.is_alive():
                return False
        return True

    def stop(self) -> None:
        """Stops capture now; crops already queued are still scored and delivered, so no result is lost."""
        self.stop_event.set()
        for stream in self.streams:
            stream.frames.close()

    def abandon(self) -> None:
        """Stops capture and drops the crops still waiting: the output's reader went away, nobody reads them."""
        self.stop()
        self.inbox.discard()

    def join(self, timeout_s: float = JOIN_TIMEOUT_S) -> bool:
        """Joins every thread; True when all ended within the timeout."""
        for stream in self.streams:
            stream.join(timeout_s)
        for thread in (self.inference, self.sinks):
            if thread.ident is not None:
                thread.join(timeout_s)
        return not any(t.is_alive() for t in self.threads())

    def threads(self) -> list[threading.Thread]:
        return [self.inference, self.sinks] + [t for s in self.streams for t in (s.capture, s.faces)]

    @property
    def output_closed(self) -> bool:
        """A sink's reader went away (stdout piped into ``head``): the run stopped on its own."""
        return self.sinks.output_closed

    def stats(self) -> list[StreamStats]:
        return [stream.stats() for stream in self.streams]
