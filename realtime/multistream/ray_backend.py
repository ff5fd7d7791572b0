"""The Ray backend's driver: starts the actors, streams their events into the sinks, restarts streams.

Local Ray when no address is given, else the cluster at ``address``. Inference actors: one per
GPU of the cluster (each reserving that GPU), or one reserving a CPU when there is none; streams
are dealt to them in turn. Stream actors are restarted by Ray when they die (``MAX_RESTARTS``),
which runs their pending ``run`` again on the new incarnation: the stream resumes where it was.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayActorError, RayTaskError

from models.registry import LoadedModel
from realtime.config import EngineConfig
from realtime.faces.stage import CropSettings
from realtime.inference import ScoringSettings
from realtime.multistream.config import StreamSettings
from realtime.multistream.ray_actors import MAX_IN_FLIGHT, InferenceActor, Progress, StatusEvent, StreamActor
from realtime.multistream.sinks import StreamSinks
from realtime.pipeline import StreamStats

MAX_RESTARTS = 3  # restarts of one stream actor before its stream is given up
WAKE_S = 0.5  # the driver's wait wakes this often so Ctrl-C (a Python signal handler) gets to run
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CODE_EXCLUDES = ["__pycache__", "*.pt", "*.onnx", "*.mp4"]


def runtime_env(address: str | None) -> dict[str, Any]:
    """How Ray workers find this project's code: the checkout locally, uploaded modules on a cluster."""
    env_vars = {"OMP_WAIT_POLICY": "PASSIVE"}  # busy-waiting OpenMP threads starve a shared CPU
    if address is None:
        pythonpath = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        return {"env_vars": {**env_vars, "PYTHONPATH": pythonpath}}
    modules = [str(PROJECT_ROOT / "realtime"), str(PROJECT_ROOT / "models")]
    return {"env_vars": env_vars, "py_modules": modules, "excludes": CODE_EXCLUDES}


def connect(address: str | None) -> bool:
    """Connects to Ray (starting a local one when ``address`` is None); True when this call did it."""
    if ray.is_initialized():
        return False
    if address is None:
        ray.init(include_dashboard=False, runtime_env=runtime_env(None))
    else:
        ray.init(address=address, runtime_env=runtime_env(address))
    return True


class RayStreams:
    """Runs every stream as a Ray stream actor feeding shared inference actors; events go to ``sinks``."""

    def __init__(
        self, streams: list[StreamSettings], loaded: LoadedModel, config: EngineConfig, sinks: StreamSinks
    ) -> None:
        """Creates the actors on the connected Ray cluster; nothing is read until start()."""
        spec = loaded.spec
        threshold = config.threshold if config.threshold is not None else spec.threshold
        settings = ScoringSettings(config.window or spec.window, config.stride, threshold, config.max_batch)
        crop = CropSettings(spec.crop_margin, spec.input_size, spec.aligned)
        gpus = int(ray.cluster_resources().get("GPU", 0))
        groups = [streams[start :: max(1, gpus)] for start in range(max(1, gpus))]
        groups = [group for group in groups if group]
        model_ref = ray.put(loaded)
        self.sinks = sinks
        self.inference: list[Any] = []
        self.actors: dict[str, Any] = {}
        self._inference_of: dict[str, Any] = {}
        for group in groups:
            inference = (
                ray.remote(InferenceActor)
                .options(
                    num_gpus=1 if gpus else 0,
                    num_cpus=0 if gpus else 1,
                    # Every submit a stream may have on the way runs at once (they wait for their turn
                    # inside), plus attach, status, events and describe calls.
                    max_concurrency=(MAX_IN_FLIGHT + 1) * len(group) + 4,
                )
                .remote(model_ref, config, settings, [stream.name for stream in group])
            )
            self.inference.append(inference)
            for stream in group:
                self._inference_of[stream.name] = inference
                self.actors[stream.name] = (
                    ray.remote(StreamActor)
                    # Ray restarts a dead stream actor and runs its pending run() again on the new one.
                    .options(max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS, max_concurrency=2)
                    .remote(stream, config, crop, inference)
                )
        self.device, self.runtime = ray.get(self.inference[0].describe.remote())
        self._stats: dict[str, StreamStats] = {}
        self._runs: dict[Any, str] = {}
        self._restarts = dict.fromkeys(self.actors, 0)
        self._stop_requested = threading.Event()
        self._readers = [threading.Thread(target=self._read_events, args=(a,), daemon=True) for a in self.inference]
        self.error: str | None = None

    def start(self) -> None:
        for reader in self._readers:
            reader.start()
        for name, actor in self.actors.items():
            self._runs[actor.run.remote()] = name

    def _read_events(self, inference: Any) -> None:
        try:
            for ref in inference.event_stream.remote():
                for event in ray.get(ref):
                    if isinstance(event, StatusEvent):
                        if event.record["event"] == "restarted":
                            self._restarts[event.stream] += 1
                        self.sinks.status(event.stream, event.record)
                    elif isinstance(event, Progress):
                        if self.sinks.board is not None:
                            self.sinks.board.progress(event.stream, event.frames_analyzed, event.faces)
                    else:
                        self.sinks.verdict(event)
        except RayActorError as exc:
            self.error = f"inference actor died: {str(exc).splitlines()[0]}"

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
            self._give_up(name, f"stream {name} failed: {_first_line(exc.cause or exc)}")
        except RayActorError as exc:  # restarts used up
            self._give_up(name, f"stream actor of {name} died: {_first_line(exc)}")

    def _give_up(self, name: str, error: str) -> None:
        self._inference_of[name].abandon.remote(name)
        self._stats[name] = StreamStats(name, error=error)

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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
