"""Ray actors: one per stream for capture and faces, inference actors that own a device.

A stream actor sends its face crops to its inference actor, which batches them across the
streams it serves (the same InferenceWorker as the threads backend) and queues verdicts,
status events and progress for the driver, which reads them as a streaming generator.

A stream actor that dies is restarted by Ray; the new incarnation asks its inference actor
where to resume (``attach``): files skip the frames already analysed, live streams continue
their frame numbering, and track ids continue past the last one used, so no window mixes
faces of two incarnations. Messages still in flight from a dead incarnation are ignored.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import ray
import torch

from models.registry import LoadedModel
from realtime.capture import CaptureThread
from realtime.config import EngineConfig
from realtime.faces.detector import FaceDetector
from realtime.faces.stage import CropSettings, FaceStage
from realtime.frame_queue import BoundedQueue, DropPolicy
from realtime.frames import FaceCrop, Verdict
from realtime.inference import (
    InferenceMessage,
    InferenceWorker,
    ScoringSettings,
    StreamEnded,
    TrackEnded,
    make_scorer,
    select_device,
)
from realtime.multistream.config import StreamSettings
from realtime.multistream.sources import open_stream_source
from realtime.pipeline import StreamStats
from realtime.sources.demo import demo_cache_dir

EVENT_BATCH = 256  # events per item of the driver's event stream
EVENT_QUEUE_SIZE = 4096  # events waiting for the driver; inference waits when it is full
PROGRESS_EVERY_S = 0.5  # how often a stream's progress reaches the driver
MAX_IN_FLIGHT = 4  # submit calls a stream actor has on the way before it waits for the oldest


@dataclass(frozen=True)
class Resume:
    """Where an incarnation of a stream actor starts (all zero for the first)."""

    incarnation: int  # 1 for the first actor, +1 per restart
    first_frame: int  # frames before this were analysed by an earlier incarnation
    track_offset: int  # added to this incarnation's track ids so no id is reused
    frames_analyzed: int  # by earlier incarnations
    faces_seen: int  # by earlier incarnations
    finished: bool  # an earlier incarnation delivered the end of the stream: nothing is left to do


@dataclass(frozen=True)
class Progress:
    """How far one stream is (for the live status view)."""

    stream: str
    frames_analyzed: int
    faces: int


@dataclass(frozen=True)
class StatusEvent:
    """A status record of one stream: reconnecting, reconnected, restarted."""

    stream: str
    record: dict[str, Any]


Event = Verdict | Progress | StatusEvent


@dataclass
class _StreamState:
    """What an inference actor remembers of one of its streams across stream-actor restarts."""

    incarnation: int = 0
    next_frame: int = 0
    next_track: int = 1
    frames_analyzed: int = 0
    tracks_seen: set[int] = field(default_factory=set)
    open_tracks: set[int] = field(default_factory=set)
    next_seq: int = 0  # the submit call of the current incarnation that goes next
    ended: bool = False  # StreamEnded went to the worker (it must go exactly once)
    progress_sent_at: float = 0.0
    turn: threading.Condition = field(default_factory=threading.Condition)


class InferenceActor:
    """Owns the model on one device; scores the crops of its streams batched across them."""

    def __init__(
        self, loaded: LoadedModel, config: EngineConfig, settings: ScoringSettings, stream_names: list[str]
    ) -> None:
        threads = config.resolved_torch_threads()
        torch.set_num_threads(threads)
        device = select_device(config.device)
        self.scorer = make_scorer(loaded, device, config.runtime, threads, demo_cache_dir() / "onnx")
        self.inbox = BoundedQueue[InferenceMessage](config.crop_queue_size, DropPolicy.NEVER)
        self.events = BoundedQueue[Event](EVENT_QUEUE_SIZE, DropPolicy.NEVER)
        self.streams = {name: _StreamState() for name in stream_names}
        self.worker = InferenceWorker(self.scorer, settings, self.inbox, self.events.put, len(stream_names))
        self.worker.start()
        threading.Thread(target=self._close_events_at_end, name="events-closer", daemon=True).start()

    def _close_events_at_end(self) -> None:
        self.worker.join()
        self.events.close()

    def describe(self) -> tuple[str, str]:
        """(device, runtime) of this actor's scorer."""
        return str(self.scorer.device), self.scorer.runtime

    def attach(self, name: str) -> Resume:
        """A stream actor (re)starts: ends the tracks of its previous incarnation and says where to resume."""
        state = self.streams[name]
        with state.turn:
            state.incarnation += 1
            state.next_seq = 0
            state.turn.notify_all()  # calls of the dead incarnation waiting for their turn give up
            for track_id in sorted(state.open_tracks):
                self.inbox.put(TrackEnded(name, track_id))
            state.open_tracks.clear()
            resume = Resume(
                state.incarnation,
                state.next_frame,
                state.next_track - 1,
                state.frames_analyzed,
                len(state.tracks_seen),
                state.ended,
            )
        if resume.incarnation > 1:
            record = {"event": "restarted", "incarnation": resume.incarnation, "resume_frame": resume.first_frame}
            self.events.put(StatusEvent(name, record))
        return resume

    def submit(
        self,
        name: str,
        incarnation: int,
        seq: int,
        next_frame: int,
        frames_analyzed: int,
        faces: int,
        messages: list,
    ) -> None:
        """Crops and track ends of one stream up to frame ``next_frame - 1``; returns once they are queued.

        ``seq`` numbers the calls of one incarnation: a threaded actor may start calls out of order,
        and a window must see its crops in frame order.
        """
        state = self.streams[name]
        with state.turn:
            state.turn.wait_for(lambda: incarnation != state.incarnation or seq == state.next_seq)
            if incarnation != state.incarnation:
                return  # sent by an incarnation that has died since
            for message in messages:
                if isinstance(message, FaceCrop):
                    state.open_tracks.add(message.track_id)
                    state.tracks_seen.add(message.track_id)
                    state.next_track = max(state.next_track, message.track_id + 1)
                elif isinstance(message, TrackEnded):
                    state.open_tracks.discard(message.track_id)
                else:
                    state.ended = True
                self.inbox.put(message)
            state.next_frame = max(state.next_frame, next_frame)
            state.frames_analyzed = frames_analyzed
            state.next_seq += 1
            state.turn.notify_all()
            now = time.monotonic()
            due = now - state.progress_sent_at >= PROGRESS_EVERY_S
            if due:
                state.progress_sent_at = now
        if due:
            self.events.put(Progress(name, frames_analyzed, faces))

    def status(self, name: str, incarnation: int, record: dict[str, Any]) -> None:
        """A status record from the source of a stream (reconnecting, reconnected)."""
        if incarnation == self.streams[name].incarnation:
            self.events.put(StatusEvent(name, record))

    def abandon(self, name: str) -> None:
        """The stream's actor is gone for good: end its tracks and the stream, ignore late messages."""
        state = self.streams[name]
        with state.turn:
            state.incarnation += 1
            state.turn.notify_all()
            for track_id in sorted(state.open_tracks):
                self.inbox.put(TrackEnded(name, track_id))
            state.open_tracks.clear()
            if not state.ended:
                state.ended = True
                self.inbox.put(StreamEnded(name))

    def event_stream(self):
        """Yields lists of events until every stream of this actor ended (a Ray streaming generator)."""
        while (batch := self.events.get_batch(EVENT_BATCH)) is not None:
            yield batch

    def error(self) -> str | None:
        return self.worker.error


class _Sender:
    """Sends a stream's messages to its inference actor with at most MAX_IN_FLIGHT calls on the way."""

    def __init__(self, inference: Any, name: str, incarnation: int) -> None:
        self.inference = inference
        self.name = name
        self.incarnation = incarnation
        self.in_flight: deque[Any] = deque()
        self.sent_at = 0.0
        self.seq = 0

    def send(self, next_frame: int, frames_analyzed: int, faces: int, messages: list, force: bool = False) -> None:
        now = time.monotonic()
        if not (messages or force or now - self.sent_at >= PROGRESS_EVERY_S):
            return
        self.sent_at = now
        self.in_flight.append(
            self.inference.submit.remote(
                self.name, self.incarnation, self.seq, next_frame, frames_analyzed, faces, messages
            )
        )
        self.seq += 1
        if len(self.in_flight) > MAX_IN_FLIGHT:
            ray.get(self.in_flight.popleft())

    def drain(self) -> None:
        ray.get(list(self.in_flight))
        self.in_flight.clear()


class StreamActor:
    """Captures one stream and runs its face stage; crops go to the stream's inference actor."""

    def __init__(self, stream: StreamSettings, config: EngineConfig, crop: CropSettings, inference: Any) -> None:
        self.stream = stream
        self.config = config
        self.crop = crop
        self.inference = inference
        self.stop_event = threading.Event()
        self.frames: BoundedQueue | None = None

    def run(self) -> StreamStats:
        """Analyses the stream until it ends or stop(); returns its counters."""
        name, config = self.stream.name, self.config
        resume: Resume = ray.get(self.inference.attach.remote(name))
        if resume.finished:  # died after delivering everything, before returning
            return StreamStats(name, frames_analyzed=resume.frames_analyzed, faces_seen=resume.faces_seen)

        def on_status(record: dict[str, Any]) -> None:  # runs on the capture thread
            self.inference.status.remote(name, resume.incarnation, record)

        source = open_stream_source(self.stream, config, on_status)
        frames = self.frames = BoundedQueue(
            config.frame_queue_size, DropPolicy.KEEP_NEWEST if source.is_live else DropPolicy.NEVER
        )
        if self.stop_event.is_set():
            frames.close()
        detector = FaceDetector(config.detector_model, config.detect_max_side, landmarks=self.crop.aligned)
        stage = FaceStage(
            name,
            detector,
            self.crop,
            detect_every=self.stream.detect_every or config.detect_every,
            max_faces=config.max_faces,
            track_motion=config.track_motion,
        )
        capture = CaptureThread(source, frames, self.stop_event)
        capture.start()
        sender = _Sender(self.inference, name, resume.incarnation)
        offset = resume.track_offset
        analyzed = resume.frames_analyzed
        next_frame = resume.first_frame
        while (frame := frames.get()) is not None:
            if source.is_live:
                frame = dataclasses.replace(frame, index=frame.index + resume.first_frame)
            elif frame.index < resume.first_frame:
                continue  # analysed before the restart
            result = stage.process(frame)
            analyzed += 1
            next_frame = frame.index + 1
            messages: list = [TrackEnded(name, track_id + offset) for track_id in result.ended_tracks]
            messages += [dataclasses.replace(crop, track_id=crop.track_id + offset) for crop in result.crops]
            sender.send(next_frame, analyzed, len(result.faces), messages)
        frames.close()
        last = [TrackEnded(name, track_id + offset) for track_id in stage.finish()]
        sender.send(next_frame, analyzed, 0, [*last, StreamEnded(name)], force=True)
        sender.drain()
        capture.join()
        log = getattr(source, "log", None)
        return StreamStats(
            name=name,
            frames_read=capture.frames_read + (resume.first_frame if source.is_live else 0),
            frames_dropped=frames.dropped,
            frames_analyzed=analyzed,
            faces_seen=resume.faces_seen + len(stage.track_ids_seen),
            faces_capped=stage.tracker.faces_capped,
            detections_run=stage.detections_run,
            error=capture.error,
            outages=[dataclasses.asdict(outage) for outage in log.outages] if log else [],
            reconnects=log.reconnects if log else 0,
            decode_errors=getattr(source, "decode_errors", 0),
            decode_gaps=list(getattr(source, "decode_gaps", [])),
        )

    def stop(self) -> None:
        """Ends capture now; what was captured is still analysed and delivered."""
        self.stop_event.set()
        if self.frames is not None:
            self.frames.close()
