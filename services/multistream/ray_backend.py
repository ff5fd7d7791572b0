"""The Ray backend's driver: starts the actors, streams their events into the sinks, restarts streams.

Local Ray when no address is given, else the cluster at ``address``. Inference actors: one per
GPU of the cluster (each reserving that GPU), or one reserving a CPU when there is none; streams
are dealt to them in turn. Stream actors are restarted by Ray when they die (``MAX_RESTARTS``),
which runs their pending ``run`` again on the new incarnation: the stream resumes where it was.
Inference actors are restarted too (``INFERENCE_MAX_RESTARTS``): the driver subscribes to the new
actor's events and tells it which of its streams are over; running streams rejoin it themselves.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import ray
from ray.exceptions import RayActorError, RayTaskError

from common.errors import first_line
from realtime.config import EngineConfig
from realtime.engine import Detector, resolve_settings
from realtime.pipeline import StreamStats
from realtime.sinks import report_sink_failure
from services.multistream.config import StreamSettings
from services.multistream.ray_actors import (
    MAX_IN_FLIGHT,
    InferenceActor,
    Progress,
    StatusEvent,
    StreamActor,
    call_patiently,
)
from services.multistream.sinks import StreamSinks

MAX_RESTARTS = 3  # restarts of one stream actor before its stream is given up
INFERENCE_MAX_RESTARTS = 3  # restarts of one inference actor before the run ends with an error
WAKE_S = 0.5  # the driver's wait wakes this often so Ctrl-C (a Python signal handler) gets to run


class RayStreams:
    """Runs every stream as a Ray stream actor feeding shared inference actors; events go to ``sinks``."""

    def __init__(
        self, streams: list[StreamSettings], detector: Detector, config: EngineConfig, sinks: StreamSinks
    ) -> None:
        """Creates the actors on the connected Ray cluster; nothing is read until start()."""
        gpus = int(ray.cluster_resources().get("GPU", 0))
        device = "cuda" if gpus else "cpu"  # where the inference actors run, which decides how crops are paced
        settings = resolve_settings(config, detector.spec, device)
        groups = [streams[start :: max(1, gpus)] for start in range(max(1, gpus))]
        groups = [group for group in groups if group]
        self._model = [ray.put(detector)]  # handed to every inference actor, again after a restart
        self.sinks = sinks
        self.inference: list[Any] = []
        self.actors: dict[str, Any] = {}
        self._inference_of: dict[str, Any] = {}
        run_id = uuid.uuid4().hex[:8]  # names this run's inference actors apart from another run's
        for number, group in enumerate(groups):
            inference_name = f"deepfake-inference-{run_id}-{number}"
            inference = (
                ray.remote(InferenceActor)
                .options(
                    name=inference_name,
                    num_gpus=1 if gpus else 0,
                    num_cpus=0 if gpus else 1,
                    # Ray restarts a dead inference actor; its calls are not retried (the streams rejoin).
                    max_restarts=INFERENCE_MAX_RESTARTS,
                    # Every submit a stream may have on the way runs at once (they wait for their turn
                    # inside), plus attach, status, events and load calls.
                    max_concurrency=(MAX_IN_FLIGHT + 1) * len(group) + 4,
                )
                .remote(config, settings, [stream.name for stream in group])
            )
            self.inference.append(inference)
            for stream in group:
                self._inference_of[stream.name] = inference
                self.actors[stream.name] = (
                    ray.remote(StreamActor)
                    # Ray restarts a dead stream actor and runs its pending run() again on the new one.
                    .options(max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS, max_concurrency=2)
                    .remote(stream, config, detector.spec, device, inference_name)
                )
        described = ray.get([inference.load.remote(self._model) for inference in self.inference])
        self.device, self.runtime = described[0]
        self._stats: dict[str, StreamStats] = {}
        self._runs: dict[Any, str] = {}
        self._restarts = dict.fromkeys(self.actors, 0)
        self._finished: set[str] = set()  # streams whose run() is over, told to every new inference actor
        self._finished_lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._readers = [threading.Thread(target=self._read_events, args=(a,), daemon=True) for a in self.inference]
        self.error: str | None = None
        self._sink_error: str | None = None

    def start(self) -> None:
        for reader in self._readers:
            reader.start()
        for name, actor in self.actors.items():
            self._runs[actor.run.remote()] = name

    def _read_events(self, inference: Any) -> None:
        """Delivers one inference actor's events; follows it through its restarts."""
        error = "inference actor died"
        for life in range(INFERENCE_MAX_RESTARTS + 1):
            try:
                if life > 0 and not self._reload(inference):
                    return
                events = inference.event_stream.remote()
                if life > 0:  # streams that are over will not call the new actor: end them there
                    with self._finished_lock:
                        over = [name for name in self._finished if self._inference_of[name] is inference]
                    for name in over:
                        inference.abandon.remote(name)
                for ref in events:
                    self._deliver_safely(ray.get(ref))
                return
            except RayActorError as exc:
                error = f"inference actor died: {first_line(exc)}"
        self.error = error

    def _reload(self, inference: Any) -> bool:
        """Hands a restarted inference actor the model; False (and the actor removed) when it cannot load it."""
        try:
            call_patiently(inference.load, self._model)  # waits while Ray brings the actor back
        except RayTaskError as exc:
            self.error = f"a restarted inference actor cannot load the model: {first_line(exc.cause or exc)}"
            ray.kill(inference, no_restart=True)  # its streams' calls fail instead of waiting for ever
            return False
        return True

    def _deliver_safely(self, events: list) -> None:
        """Delivers events; a sink's bug is reported once and the reader goes on draining the actor's events
        (stopping would leave the inference actor blocked on its full event queue)."""
        try:
            self._deliver(events)
        except Exception as exc:  # the sinks' bug, not the stream's
            if self._sink_error is None:
                self._sink_error = f"{type(exc).__name__}: {first_line(exc)}"
                report_sink_failure("stream outputs", self._sink_error)

    def _deliver(self, events: list) -> None:
        for event in events:
            if isinstance(event, StatusEvent):
                if event.status.event == "restarted":
                    self._restarts[event.stream] += 1
                self.sinks.status(event.stream, event.status)
            elif isinstance(event, Progress):
                if self.sinks.board is not None:
                    self.sinks.board.progress(event.stream, event.frames_analyzed, event.faces)
            else:
                self.sinks.verdict(event)

    def wait(self) -> None:
        """Blocks until every stream ended or was given up, and every event reached the sinks."""
        stopping = False
        while self._runs:
            if self._stop_requested.is_set() and not stopping:
                stopping = True
                for actor in self.actors.values():
                    actor.stop.remote()
            ready, _ = ray.wait(list(self._runs), num_returns=1, timeout=WAKE_S)
            for ref in ready:
                self._collect(ref)
        for reader in self._readers:
            reader.join()
        if self.error is None:
            self.error = next(filter(None, ray.get([a.error.remote() for a in self.inference])), None)

    def _collect(self, ref: Any) -> None:
        name = self._runs.pop(ref)
        try:
            self._stats[name] = ray.get(ref)
        except RayTaskError as exc:  # run() raised: the stream cannot go on, the others do
            self._stats[name] = StreamStats(name, error=f"stream {name} failed: {first_line(exc.cause or exc)}")
        except RayActorError as exc:  # restarts used up
            self._stats[name] = StreamStats(name, error=f"stream actor of {name} died: {first_line(exc)}")
        with self._finished_lock:
            self._finished.add(name)
        # Ends the stream on its inference actor unless its end arrived there (a no-op then): needed when
        # the stream actor is gone, or when the inference actor was restarted after the end reached it.
        self._inference_of[name].abandon.remote(name)

    def stop(self) -> None:
        """Asks every stream to stop (safe from a signal handler); wait() delivers what was captured."""
        self._stop_requested.set()

    def close(self) -> None:
        """Removes the actors from the cluster."""
        for actor in [*self.actors.values(), *self.inference]:
            ray.kill(actor, no_restart=True)

    def stats(self) -> dict[str, StreamStats]:
        return {name: self._stats.get(name, StreamStats(name)) for name in self.actors}

    def restarts(self, name: str) -> int:
        """How many times the stream's actor died and was restarted."""
        return self._restarts[name]
