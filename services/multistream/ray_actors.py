"""Ray actors: one per stream for capture and faces, inference actors that own a device.

A stream actor sends its face crops to its inference actor, which batches them across the
streams it serves (the same InferenceWorker as the threads backend) and queues verdicts,
status events and progress for the driver, which reads them as a streaming generator.

A stream actor that dies is restarted by Ray; the new incarnation asks its inference actor
where to resume (``attach``): files skip the frames already analysed, live streams continue
their frame numbering, and track ids continue past the last one used, so no window mixes
faces of two incarnations. Messages still in flight from a dead incarnation are ignored.

An inference actor that dies is restarted by Ray too (with no memory of its streams). A stream
actor notices at its next call (it fails, or is refused as coming from an unknown session) and
``rejoin``s: it tells the new inference actor where it is, and its stream goes on from there.
Crops the dead actor held are lost, so each face's verdicts pause for about one window.

Every ``attach``, ``rejoin`` and ``abandon`` opens a new *session* of the stream on its inference
actor; calls of an older session (a dead incarnation, a dead inference actor) are ignored.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, RayActorError

from models.spec import ModelSpec
from realtime.capture import CaptureThread
from realtime.config import EngineConfig
from realtime.engine import Detector, build_engine, crop_settings, pacing_for
from realtime.face_stage import FaceStageResult
from realtime.frame_queue import BoundedQueue, DropPolicy
from realtime.frames import FaceCrop, Frame, Verdict
from realtime.inbox import InferenceInbox
from realtime.inference import InferenceWorker, ScoringSettings
from realtime.messages import StreamEnded, TrackEnded
from realtime.pacing import CropGate
from realtime.pipeline import FaceLoop, StreamStats, build_face_stage, frame_queue, stream_stats
from realtime.scorers import Scorer
from realtime.status import Severity, StreamStatus
from services.multistream.config import StreamSettings
from services.multistream.sources import open_stream_source

EVENT_BATCH = 256  # events per item of the driver's event stream
EVENT_QUEUE_SIZE = 4096  # events waiting for the driver; inference waits when it is full
PROGRESS_EVERY_S = 0.5  # how often a stream's progress reaches the driver
MAX_IN_FLIGHT = 4  # submit calls a stream actor has on the way before it waits for the oldest
REJOIN_ATTEMPTS = 5  # a stream actor gives up when its inference actor stays unreachable this many times
REJOIN_RETRY_S = 1.0
RESTART_WAIT_S = 60.0  # how long a restarting actor may stay unavailable before it counts as gone


@dataclass(frozen=True)
class Resume:
    """Where an incarnation of a stream actor starts (from the beginning for the first)."""

    incarnation: int  # 1 for the first actor, +1 per restart
    session: int  # tags this incarnation's calls (see the module docstring)
    first_frame: int  # frames before this were analysed by an earlier incarnation
    track_offset: int  # added to this incarnation's track ids so no id is reused
    frames_analyzed: int  # by earlier incarnations
    faces_seen: int  # by earlier incarnations
    finished: bool  # an earlier incarnation delivered the end of the stream: nothing is left to do


@dataclass(frozen=True)
class Position:
    """Where a running stream actor is, told to a restarted inference actor that forgot it."""

    incarnation: int
    session: int  # the stream actor's last session
    next_frame: int
    next_track: int
    frames_analyzed: int
    faces_seen_before: int  # by earlier incarnations
    track_ids: frozenset[int]  # faces of this incarnation so far


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
    status: StreamStatus


Event = Verdict | Progress | StatusEvent


@dataclass
class _StreamState:
    """What an inference actor remembers of one of its streams across stream-actor restarts."""

    incarnation: int = 0
    session: int = 0
    next_frame: int = 0
    next_track: int = 1
    frames_analyzed: int = 0
    faces_seen_before: int = 0  # faces counted before this actor knew the stream (it was restarted)
    tracks_seen: set[int] = field(default_factory=set)
    open_tracks: set[int] = field(default_factory=set)
    next_seq: int = 0  # the submit call of the current session that goes next
    ended: bool = False  # StreamEnded went to the worker (it must go exactly once)
    progress_sent_at: float = 0.0
    turn: threading.Condition = field(default_factory=threading.Condition)


class InferenceActor:
    """Owns the model on one device; scores the crops of its streams batched across them.

    Created without the model, which the driver hands over with ``load`` (again to a restarted
    actor): creation arguments held in Ray's object store may be gone when Ray restarts an actor
    (ray-project/ray#53727), so they stay small. Calls that arrive before ``load`` queue up in the
    bounded inbox and wait there.
    """

    def __init__(self, config: EngineConfig, settings: ScoringSettings, stream_names: list[str]) -> None:
        self.config = config
        self.settings = settings
        self.inbox = InferenceInbox(config.crop_queue_size)
        self.events = BoundedQueue[Event](EVENT_QUEUE_SIZE, DropPolicy.NEVER)
        self.streams = {name: _StreamState() for name in stream_names}
        self.scorer: Scorer | None = None
        self.worker: InferenceWorker | None = None
        self._load_lock = threading.Lock()

    def load(self, model: list[Any]) -> tuple[str, str]:
        """Builds the scorer from ``model`` ([ObjectRef of the detector]) and starts scoring, once.

        Returns (device, runtime) of the scorer.
        """
        with self._load_lock:
            scorer = self.scorer
            if scorer is None:
                detector: Detector = ray.get(model[0])
                scorer = build_engine(self.config, detector=detector).scorer
                worker = InferenceWorker(scorer, self.settings, self.inbox, self.events.put, len(self.streams))
                worker.start()
                threading.Thread(target=self._close_events_at_end, args=(worker,), daemon=True).start()
                self.scorer, self.worker = scorer, worker
        return str(scorer.device), scorer.runtime

    def _close_events_at_end(self, worker: InferenceWorker) -> None:
        worker.join()
        self.events.close()

    def _new_session(self, name: str, state: _StreamState) -> None:
        """Ends the stream's open tracks and starts a new session (the caller holds ``state.turn``)."""
        state.session += 1
        state.next_seq = 0
        state.turn.notify_all()  # calls of the old session waiting for their turn give up
        for track_id in sorted(state.open_tracks):
            self.inbox.put(TrackEnded(name, track_id))
        state.open_tracks.clear()

    def attach(self, name: str) -> Resume:
        """A stream actor (re)starts: ends the tracks of its previous incarnation and says where to resume."""
        state = self.streams[name]
        with state.turn:
            state.incarnation += 1
            self._new_session(name, state)
            resume = Resume(
                state.incarnation,
                state.session,
                state.next_frame,
                state.next_track - 1,
                state.frames_analyzed,
                state.faces_seen_before + len(state.tracks_seen),
                state.ended,
            )
        if resume.incarnation > 1:
            status = StreamStatus(
                "restarted", Severity.WARNING, incarnation=resume.incarnation, resume_frame=resume.first_frame
            )
            self.events.put(StatusEvent(name, status))
        return resume

    def rejoin(self, name: str, position: Position) -> int:
        """A running stream actor lost calls to this actor (it was restarted, or unreachable for a while).

        Takes over the stream from ``position`` when this actor does not know it yet, ends the
        tracks whose crops may have been lost, and returns the session to send in from now on.
        """
        state = self.streams[name]
        with state.turn:
            forgotten = state.incarnation == 0
            if forgotten:
                state.incarnation = position.incarnation
                state.next_frame = position.next_frame
                state.next_track = position.next_track
                state.frames_analyzed = position.frames_analyzed
                state.faces_seen_before = position.faces_seen_before
                state.tracks_seen = set(position.track_ids)
            state.session = max(state.session, position.session)
            self._new_session(name, state)
            session = state.session
        event = "inference_restarted" if forgotten else "inference_resumed"
        self.events.put(StatusEvent(name, StreamStatus(event, Severity.WARNING, resume_frame=position.next_frame)))
        return session

    def submit(
        self,
        name: str,
        session: int,
        seq: int,
        next_frame: int,
        frames_analyzed: int,
        faces: int,
        messages: list,
        newest: bool = False,
    ) -> bool:
        """Crops and track ends of one stream up to frame ``next_frame - 1``; returns once they are queued
        (``newest``: each crop becomes its face's waiting crop, replacing an older one).

        ``seq`` numbers the calls of one session: a threaded actor may start calls out of order,
        and a window must see its crops in frame order. False: the call belongs to a session this
        actor does not (or no longer) run, and was ignored.
        """
        state = self.streams[name]
        with state.turn:
            state.turn.wait_for(lambda: session != state.session or seq == state.next_seq)
            if session != state.session:
                return False  # from a dead incarnation, or to a restarted inference actor
            for message in messages:
                if isinstance(message, FaceCrop):
                    state.open_tracks.add(message.track_id)
                    state.tracks_seen.add(message.track_id)
                    state.next_track = max(state.next_track, message.track_id + 1)
                elif isinstance(message, TrackEnded):
                    state.open_tracks.discard(message.track_id)
                elif state.ended:
                    continue  # a stream ends once: its end may be sent again after a rejoin
                else:
                    state.ended = True
                if newest and isinstance(message, FaceCrop):
                    self.inbox.offer(message)
                else:
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
        return True

    def status(self, name: str, session: int, status: StreamStatus) -> None:
        """A status event from the source of a stream (reconnecting, reconnected)."""
        if session == self.streams[name].session:
            self.events.put(StatusEvent(name, status))

    def abandon(self, name: str) -> None:
        """The stream is over (its actor returned, or is gone for good): end its tracks and the stream once.

        Idempotent; late messages of the stream are ignored.
        """
        state = self.streams[name]
        with state.turn:
            self._new_session(name, state)
            if not state.ended:
                state.ended = True
                self.inbox.put(StreamEnded(name))

    def event_stream(self):
        """Yields lists of events until every stream of this actor ended (a Ray streaming generator)."""
        while (batch := self.events.get_batch(EVENT_BATCH)) is not None:
            yield batch

    def error(self) -> str | None:
        return self.worker.error if self.worker is not None else None


class _Sender:
    """Sends a stream's messages to its inference actor with at most MAX_IN_FLIGHT calls on the way.

    ``lost`` turns True when a call failed or was refused: the inference actor was restarted (or
    unreachable) and the stream must rejoin it before sending more.
    """

    def __init__(self, inference: Any, name: str, session: int) -> None:
        self.inference = inference
        self.name = name
        self.session = session
        self.in_flight: deque[Any] = deque()
        self.sent_at = 0.0
        self.seq = 0
        self.lost = False

    def send(
        self,
        next_frame: int,
        frames_analyzed: int,
        faces: int,
        messages: list,
        force: bool = False,
        newest: bool = False,
    ) -> None:
        """``newest``: the crops are their faces' newest, replacing older ones still waiting (live, on a CPU)."""
        now = time.monotonic()
        if not (messages or force or now - self.sent_at >= PROGRESS_EVERY_S):
            return
        self.sent_at = now
        self.in_flight.append(
            self.inference.submit.remote(
                self.name, self.session, self.seq, next_frame, frames_analyzed, faces, messages, newest
            )
        )
        self.seq += 1
        if len(self.in_flight) > MAX_IN_FLIGHT:
            self._settle(self.in_flight.popleft())

    def _settle(self, call: Any) -> None:
        try:
            accepted = ray.get(call)
        except RayActorError:  # the inference actor died (Ray restarts it) or was unreachable
            accepted = False
        if not accepted:
            self.lost = True

    def drain(self) -> None:
        """Waits for every call on the way."""
        while self.in_flight:
            self._settle(self.in_flight.popleft())

    def rejoin(self, position: Position) -> None:
        """Re-registers the stream with its (restarted) inference actor and sends in a new session."""
        self.drain()  # what is still on the way went to the lost actor
        self.session = call_patiently(self.inference.rejoin, self.name, position)
        self.seq = 0
        self.lost = False


def call_patiently(method: Any, *args: Any) -> Any:
    """``method.remote(*args)``'s result, asking again while the actor is unreachable (restarting).

    While Ray restarts an actor, calls fail with ``ActorUnavailableError`` until the new one is up,
    which takes longer on a loaded machine: those are asked again for up to ``RESTART_WAIT_S``. Other
    actor errors (a call on its way when the actor died) are asked again ``REJOIN_ATTEMPTS`` times.
    Raises RayActorError once the actor is gone for good.
    """
    deadline = time.monotonic() + RESTART_WAIT_S
    failures = 0
    while True:
        try:
            return ray.get(method.remote(*args))
        except ActorUnavailableError:
            if time.monotonic() >= deadline:
                raise
        except RayActorError:
            failures += 1
            if failures >= REJOIN_ATTEMPTS:
                raise
        time.sleep(REJOIN_RETRY_S)


class _RayPort:
    """A stream actor's face-loop port: one frame's track ends and crops to the inference actor, with track
    ids past those of earlier incarnations; rejoins a restarted inference actor when a call was lost."""

    def __init__(self, name: str, sender: _Sender, resume: Resume, newest_only: bool) -> None:
        self.name = name
        self.sender = sender
        self.resume = resume
        self.newest_only = newest_only
        self.analyzed = resume.frames_analyzed
        self.next_frame = resume.first_frame
        self.track_ids_seen: Callable[[], set[int]] = set

    def position(self) -> Position:
        offset = self.resume.track_offset
        seen = frozenset(track_id + offset for track_id in self.track_ids_seen())
        next_track = max(seen, default=offset) + 1
        resume = self.resume
        return Position(
            resume.incarnation, self.sender.session, self.next_frame, next_track, self.analyzed, resume.faces_seen, seen
        )

    def deliver(self, result: FaceStageResult, crops: list[FaceCrop]) -> None:
        offset = self.resume.track_offset
        messages: list = [TrackEnded(self.name, track_id + offset) for track_id in result.ended_tracks]
        messages += [dataclasses.replace(crop, track_id=crop.track_id + offset) for crop in crops]
        self.analyzed += 1
        self.next_frame = result.frame.index + 1  # a restart resumes after the last frame delivered
        self.sender.send(self.next_frame, self.analyzed, len(result.faces), messages, newest=self.newest_only)
        if self.sender.lost:
            self.sender.rejoin(self.position())

    def finish(self, ended_tracks: list[int]) -> None:
        final: list = [TrackEnded(self.name, track_id + self.resume.track_offset) for track_id in ended_tracks]
        final.append(StreamEnded(self.name))
        while True:
            self.sender.send(self.next_frame, self.analyzed, 0, final, force=True)
            self.sender.drain()
            if not self.sender.lost:
                return
            self.sender.rejoin(self.position())  # the end must reach the inference actor, or it waits for ever
            final = [StreamEnded(self.name)]


class StreamActor:
    """Captures one stream and runs its face loop (``realtime.pipeline.FaceLoop``); crops go to the stream's
    inference actor."""

    def __init__(
        self, stream: StreamSettings, config: EngineConfig, spec: ModelSpec, device: str, inference_name: str
    ) -> None:
        """``spec`` and ``device``: the model's and where its inference actor runs, which decide how crops are
        paced. ``inference_name``: the named inference actor of this stream.

        By name rather than by handle: Ray warns that an actor created with a handle among its
        arguments may not find it after a restart (ray-project/ray#53727); a name always resolves.
        """
        self.stream = stream
        self.config = config
        self.spec = spec
        self.device = device
        self.inference = ray.get_actor(inference_name)
        self.stop_event = threading.Event()
        self.frames: BoundedQueue | None = None

    def run(self) -> StreamStats:
        """Analyses the stream until it ends or stop(); returns its counters."""
        name, config = self.stream.name, self.config
        resume: Resume = call_patiently(self.inference.attach, name)
        if resume.finished:  # died after delivering everything, before returning
            return StreamStats(name, frames_analyzed=resume.frames_analyzed, faces_seen=resume.faces_seen)

        sender = _Sender(self.inference, name, resume.session)

        def on_status(status: StreamStatus) -> None:  # runs on the capture thread
            self.inference.status.remote(name, sender.session, status)

        source = open_stream_source(self.stream, config, on_status)
        frames = self.frames = frame_queue(source, config)
        if self.stop_event.is_set():
            frames.close()
        stage = build_face_stage(source, config, crop_settings(self.spec), self.stream.detect_every)
        gate = CropGate(pacing_for(source, config, self.spec, self.device))
        port = _RayPort(name, sender, resume, gate.newest_only)
        port.track_ids_seen = lambda: stage.follower.track_ids_seen
        capture = CaptureThread(source, frames, self.stop_event)
        capture.start()

        def resumed_frames() -> Iterator[Frame]:
            """Live frames numbered on from the earlier incarnations; a file's frames past what they analysed."""
            for frame in iter(frames.get, None):
                if source.is_live:
                    yield dataclasses.replace(frame, index=frame.index + resume.first_frame)
                elif frame.index >= resume.first_frame:
                    yield frame

        FaceLoop(stage, gate, port).run(resumed_frames(), self.stop_event)
        frames.close()
        capture.join()
        stats = stream_stats(source, stage, capture, frames, port.analyzed)
        # Earlier incarnations read and followed faces too: live frame numbers and face counts continue.
        return dataclasses.replace(
            stats,
            frames_read=stats.frames_read + (resume.first_frame if source.is_live else 0),
            faces_seen=resume.faces_seen + stats.faces_seen,
        )

    def stop(self) -> None:
        """Ends capture now; what was captured is still analysed and delivered."""
        self.stop_event.set()
        if self.frames is not None:
            self.frames.close()
