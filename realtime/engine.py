"""The one builder of a configured engine: every entry point, the window, the Ray actors and the benchmarks use it.

An :class:`Engine` holds the resolved settings (a flag overrides the checkpoint's value here and
nowhere else), the detector, the device, the scorer with its runtime, and opens sources with the
reconnect policy and status callback of the configuration.

On a CPU the detector runs in ONNX Runtime from its two exported files (``models.onnx_files``):
the export shipped next to the checkpoint, else one in the cache, else one made now (which needs
torch). torch is imported only for CUDA, ``--runtime torch``, exports, Grad-CAM and training.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Union

from common.paths import onnx_cache_dir
from faces.crops import CropSettings
from models.onnx_files import OnnxDetector, export_prefix, read_export
from models.spec import DEFAULT_CHECKPOINT, CheckpointError, ModelSpec, file_sha256, verify_checksum
from realtime.config import EngineConfig
from realtime.frames import AnalyzedFrame, Verdict
from realtime.inference import DeviceUnavailable, ScoringSettings, select_device
from realtime.pipeline import Pipeline
from realtime.scorers import OnnxScorer, Scorer
from realtime.sources.base import FrameSource
from realtime.sources.factory import open_configured_source
from realtime.sources.reconnect import StatusCallback

if TYPE_CHECKING:
    from models.architectures import LoadedModel

Detector = Union[OnnxDetector, "LoadedModel"]  # what a scorer is built from; both carry .spec and .source
UNTRAINED_SOURCE = "untrained efficientnet_lite0 (no checkpoint)"
TORCH_MISSING = "needs torch, which is not installed (pip install -r requirements.txt for the full install)"


class EngineError(Exception):
    """The engine cannot be built (unusable checkpoint, missing device or package); the message is one line."""


def resolve_settings(config: EngineConfig, spec: ModelSpec) -> ScoringSettings:
    """How windows are formed and read: each flag that was given overrides the checkpoint's value.

    The only place where that rule is written; everything downstream reads the result.
    """
    threshold = config.threshold if config.threshold is not None else spec.threshold
    window = config.window if config.window is not None else spec.window
    return ScoringSettings(window, config.stride, threshold, config.max_batch)


def crop_settings(spec: ModelSpec) -> CropSettings:
    """How faces are cut for this model: margin, input size, alignment and native canvas come from its spec."""
    return CropSettings(spec.crop_margin, spec.input_size, spec.aligned, spec.canvas_size)


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def load_torch_detector(model_path: Path | None) -> LoadedModel:
    """The checkpoint in torch (None: the shipped one, else an untrained fallback); EngineError if unusable."""
    if not torch_available():
        raise EngineError(f"loading a checkpoint in torch {TORCH_MISSING}")
    from models.registry import load_default_model, load_model

    try:
        return load_model(model_path) if model_path else load_default_model()
    except CheckpointError as exc:
        raise EngineError(str(exc)) from None


def load_onnx_detector(model_path: Path | None) -> OnnxDetector:
    """The detector's ONNX export: shipped beside the checkpoint, cached, or exported now (with torch)."""
    checkpoint = model_path or (DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None)
    try:
        if checkpoint is None:
            sha256, source = "untrained", UNTRAINED_SOURCE
        else:
            if not checkpoint.is_file():
                raise CheckpointError(f"model checkpoint not found: {checkpoint}")
            verify_checksum(checkpoint)
            sha256, source = file_sha256(checkpoint), str(checkpoint)
        cached = onnx_cache_dir() / f"detector-{sha256[:24]}"
        found = read_export(export_prefix(checkpoint), sha256) if checkpoint is not None else None
        found = found or read_export(cached, sha256)
    except CheckpointError as exc:
        raise EngineError(str(exc)) from None
    if found is None:
        if not torch_available():
            raise EngineError(f"{source} has no ONNX export yet; making one {TORCH_MISSING}")
        from models.onnx_export import export_detector

        export_detector(load_torch_detector(model_path), cached, sha256)
        found = read_export(cached, sha256)
        assert found is not None  # just written
    return dataclasses.replace(found, source=source)


def warn_if_untrained(detector: Detector) -> None:
    if not detector.spec.trained:
        print(f"warning: {detector.source} is untrained; its p_fake values are not verdicts", file=sys.stderr)


def wants_torch(config: EngineConfig, device: str) -> bool:
    """Whether the scorer runs in torch: on a GPU, or when ``--runtime torch`` asks for it."""
    if config.runtime not in ("auto", "torch", "onnx"):
        raise ValueError(f"runtime must be auto, torch or onnx, not {config.runtime!r}")
    if config.runtime == "onnx" and device != "cpu":
        raise DeviceUnavailable("--runtime onnx runs on the CPU; drop --device cuda or choose --runtime torch")
    return config.runtime == "torch" or device != "cpu"


def load_engine_detector(config: EngineConfig, model_path: Path | None) -> Detector:
    """The detector the configuration's device and runtime will run (EngineError when it cannot be had)."""
    try:
        device = select_device(config.device)
        use_torch = wants_torch(config, device)
    except DeviceUnavailable as exc:
        raise EngineError(str(exc)) from None
    return load_torch_detector(model_path) if use_torch else load_onnx_detector(model_path)


def checkpoint_of(detector: Detector, model_path: Path | None = None) -> Path | None:
    """The checkpoint file a detector came from (None: the shipped one, or the untrained fallback).

    A detector handed over without its path (to a Ray worker) names it in ``source``.
    """
    if model_path is not None:
        return model_path
    source = Path(detector.source)
    return source if source.is_file() else None


def make_scorer(detector: Detector, config: EngineConfig, threads: int) -> Scorer:
    """The scorer of ``detector`` on the configured device; EngineError when that cannot run here."""
    try:
        device = select_device(config.device)
        use_torch = wants_torch(config, device)
    except DeviceUnavailable as exc:
        raise EngineError(str(exc)) from None
    if not use_torch:
        if not isinstance(detector, OnnxDetector):
            detector = load_onnx_detector(checkpoint_of(detector))
        return OnnxScorer(detector, threads)
    if isinstance(detector, OnnxDetector):
        detector = load_torch_detector(checkpoint_of(detector))
    import torch

    from realtime.torch_scorer import TorchScorer

    torch.set_num_threads(threads)
    return TorchScorer(detector, torch.device(device))


@dataclass
class Engine:
    """A configured engine: settings, detector, device and scorer, ready to run sources."""

    config: EngineConfig
    detector: Detector
    settings: ScoringSettings
    scorer: Scorer
    model_path: Path | None = None
    threads: int = 1  # CPU threads the model runs on (ONNX Runtime, torch)
    _torch_model: LoadedModel | None = field(default=None, repr=False)

    @property
    def spec(self) -> ModelSpec:
        return self.detector.spec

    @property
    def model_source(self) -> str:
        return self.detector.source

    @property
    def threshold(self) -> float:
        return self.settings.threshold

    @property
    def crop(self) -> CropSettings:
        return crop_settings(self.spec)

    @property
    def device(self) -> str:
        return self.scorer.device

    @property
    def runtime(self) -> str:
        return self.scorer.runtime

    def open_source(self, spec: str | None, on_status: StatusCallback | None = None) -> FrameSource:
        """The source ``spec`` names with this engine's pacing, timeouts and reconnect policy (not opened)."""
        return open_configured_source(self.config, spec, on_status)

    def pipeline(
        self,
        sources: list[FrameSource],
        on_verdict: Callable[[Verdict], None],
        on_frame: Callable[[AnalyzedFrame], None] | None = None,
        detect_every: list[int | None] | None = None,
    ) -> Pipeline:
        """The threads that run ``sources`` through this engine's model (not started); ``detect_every``:
        per-source detection rates overriding the configuration's (None entries keep it)."""
        return Pipeline(sources, self.scorer, self.config, self.settings, self.crop, on_verdict, on_frame, detect_every)

    def torch_model(self) -> LoadedModel | None:
        """The detector in torch for what only torch does (Grad-CAM); None where torch is not installed."""
        if self._torch_model is None:
            if not isinstance(self.detector, OnnxDetector):
                self._torch_model = self.detector
            elif torch_available():
                self._torch_model = load_torch_detector(checkpoint_of(self.detector, self.model_path))
        return self._torch_model


def checkpoint_sha256(model_path: Path | None, detector: Detector) -> str | None:
    """The sha256 of the checkpoint file the detector came from (None for a model that is no file)."""
    if isinstance(detector, OnnxDetector):
        return None if detector.checkpoint_sha256 == "untrained" else detector.checkpoint_sha256
    path = model_path or (DEFAULT_CHECKPOINT if Path(detector.source) == DEFAULT_CHECKPOINT else None)
    return file_sha256(path) if path is not None and path.is_file() else None


def scan_config(config: EngineConfig) -> EngineConfig:
    """The configuration a whole-file scan runs with: faces interpolated between detections (a file
    has every frame, so both ends of each gap are known). Local and Ray scans, and the resume check
    of their reports, all take it from here."""
    return dataclasses.replace(config, face_motion="interpolate")


def build_engine(
    config: EngineConfig,
    model_path: Path | None = None,
    *,
    detector: Detector | None = None,
    threads: int | None = None,
    for_scan: bool = False,
) -> Engine:
    """Loads the detector (or takes ``detector``), picks the device and runtime, builds the scorer.

    ``threads``: CPU threads for inference (default: the configuration's). ``for_scan``: whole-file
    scans score one crop per backbone pass on a CPU, so a report is reproducible bit for bit (batch
    shapes change float rounding) at no cost in speed there. Raises EngineError with one line.
    """
    threads = threads or config.resolved_torch_threads()
    if detector is None:
        detector = load_engine_detector(config, model_path)
        warn_if_untrained(detector)
    scorer = make_scorer(detector, config, threads)
    if for_scan:
        # Whole files: faces interpolated between detections, and on a CPU one crop per model pass.
        config = scan_config(config)
        if scorer.device == "cpu":
            config = dataclasses.replace(config, max_batch=1)
    return Engine(config, detector, resolve_settings(config, detector.spec), scorer, model_path, threads)
