"""The one builder of a configured engine: every entry point, the window, the Ray actors and the benchmarks use it.

An :class:`Engine` holds the resolved settings (a flag overrides the checkpoint's value here and
nowhere else), the detector, where it runs (device and runtime, resolved once), the scorer, how
each source's crops are paced into the model, and opens sources with the reconnect policy and
status callback of the configuration.

On a CPU the detector runs in ONNX Runtime: a CNN from the two files shipped beside its checkpoint
(else cached, else exported now, which needs torch); a CLIP detector from its shipped head and the
CLIP tower's float graph, built from the pinned wheel into the cache at first use. torch is
imported only for CUDA, ``--runtime torch``, exports, Grad-CAM and training.
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
from models.clip.weights import ClipWeightsError
from models.onnx_files import OnnxDetector, export_prefix, read_export
from models.spec import (
    DEFAULT_CHECKPOINT,
    MEAN_OF_CROPS_ARCHITECTURES,
    CheckpointError,
    ModelSpec,
    file_sha256,
    verify_checksum,
)
from realtime.config import EngineConfig
from realtime.frames import AnalyzedFrame
from realtime.inference import DeviceUnavailable, ScoringSettings, select_device
from realtime.pacing import CropPacing, PacingMode
from realtime.pipeline import Pipeline
from realtime.scorers import OnnxScorer, Scorer
from realtime.sinks import Sinks
from realtime.sources.base import FrameSource
from realtime.sources.factory import open_configured_source
from realtime.status import StatusCallback

if TYPE_CHECKING:
    from models.architectures import LoadedModel

Detector = Union[OnnxDetector, "LoadedModel"]  # what a scorer is built from; both carry spec, source and checkpoint
UNTRAINED_SOURCE = "untrained efficientnet_lite0 (no checkpoint)"
TORCH_MISSING = "needs torch, which is not installed (pip install -r requirements.txt for the full install)"
DEFAULT_STRIDE = 3  # every-crop pacing: new crops of a face between two of its windows (30 fps / 3 = 10 verdicts/s)


class EngineError(Exception):
    """The engine cannot be built (unusable checkpoint, missing device or package); the message is one line."""


@dataclass(frozen=True)
class Placement:
    """Where the model runs, resolved once from the configuration: the device and whether torch runs it."""

    device: str  # "cpu" or "cuda"
    use_torch: bool  # False: ONNX Runtime (the CPU default)


def resolve_placement(config: EngineConfig) -> Placement:
    """The device (``auto``: cuda when usable) and runtime (``auto``: torch on cuda, ONNX Runtime on cpu)."""
    if config.runtime not in ("auto", "torch", "onnx"):
        raise EngineError(f"runtime must be auto, torch or onnx, not {config.runtime!r}")
    try:
        device = select_device(config.device)
    except DeviceUnavailable as exc:
        raise EngineError(str(exc)) from None
    if config.runtime == "onnx" and device != "cpu":
        raise EngineError("--runtime onnx runs on the CPU; drop --device cuda or choose --runtime torch")
    return Placement(device, config.runtime == "torch" or device != "cpu")


def embeds_every_crop(spec: ModelSpec, device: str) -> bool:
    """A GPU, or a model cheap enough (no crops_per_second in its spec), embeds every crop of every face."""
    return device != "cpu" or spec.crops_per_second <= 0


def resolve_settings(config: EngineConfig, spec: ModelSpec, device: str = "cpu") -> ScoringSettings:
    """How windows are formed and read: each flag that was given overrides the checkpoint's value.

    The only place where that rule is written; everything downstream reads the result. Where crops
    are paced (a CPU running an expensive model), a window is due at every embedded crop.
    """
    threshold = config.threshold if config.threshold is not None else spec.threshold
    window = config.window if config.window is not None else spec.window
    default_stride = DEFAULT_STRIDE if embeds_every_crop(spec, device) else 1
    stride = config.stride if config.stride is not None else default_stride
    # A head that averages crop scores reads any number of crops: a face is scored from its first embedded
    # crop (on a CPU serving several faces in turn, a full first window would take seconds per face).
    first_window = 1 if spec.architecture in MEAN_OF_CROPS_ARCHITECTURES else None
    return ScoringSettings(window, stride, threshold, config.max_batch, first_window)


def crops_per_second(config: EngineConfig, spec: ModelSpec) -> float:
    """Crops per second of video per face that a CPU embeds from files: the flag's, else the checkpoint's."""
    return config.crops_per_second if config.crops_per_second is not None else spec.crops_per_second


def pacing_for(source: FrameSource, config: EngineConfig, spec: ModelSpec, device: str) -> CropPacing:
    """Which crops of ``source``'s faces the model embeds (``realtime.pacing``).

    Still images: each one. A GPU or a cheap model: every crop. A CPU running an expensive model:
    live sources (and files paced like them) keep each face's newest crop waiting; files sample a
    fixed number of crops per second of video, so a report is the same on every machine.
    """
    if source.still_images or embeds_every_crop(spec, device):
        return CropPacing()
    if source.is_live or config.realtime:
        return CropPacing(PacingMode.NEWEST)
    rate = crops_per_second(config, spec)
    return CropPacing(PacingMode.SAMPLED, rate) if rate > 0 else CropPacing()


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
    except (CheckpointError, ClipWeightsError) as exc:
        raise EngineError(str(exc)) from None


def load_onnx_detector(model_path: Path | None) -> OnnxDetector:
    """The detector's ONNX export: shipped beside the checkpoint, cached, or exported now (with torch)."""
    checkpoint = model_path or (DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None)
    try:
        if checkpoint is None:
            sha256, source = None, UNTRAINED_SOURCE
        else:
            if not checkpoint.is_file():
                raise CheckpointError(f"model checkpoint not found: {checkpoint}")
            verify_checksum(checkpoint)
            sha256, source = file_sha256(checkpoint), str(checkpoint)
        cached = onnx_cache_dir() / f"detector-{(sha256 or 'untrained')[:24]}"
        found = read_export(export_prefix(checkpoint), sha256, checkpoint) if checkpoint is not None else None
        found = found or read_export(cached, sha256 or "untrained", checkpoint)
    except CheckpointError as exc:
        raise EngineError(str(exc)) from None
    if found is None:
        if not torch_available():
            raise EngineError(f"{source} has no ONNX export yet; making one {TORCH_MISSING}")
        from models.onnx_export import export_detector

        export_detector(load_torch_detector(model_path), cached, sha256 or "untrained")
        found = read_export(cached, sha256 or "untrained", checkpoint)
        assert found is not None  # just written
    return dataclasses.replace(found, source=source, checkpoint_sha256=sha256)


def load_detector(placement: Placement, model_path: Path | None) -> Detector:
    """The detector in the runtime of ``placement`` (EngineError when it cannot be had)."""
    return load_torch_detector(model_path) if placement.use_torch else load_onnx_detector(model_path)


def load_engine_detector(config: EngineConfig, model_path: Path | None) -> Detector:
    """The detector the configuration's device and runtime will run (EngineError when it cannot be had)."""
    return load_detector(resolve_placement(config), model_path)


def warn_if_untrained(detector: Detector) -> None:
    if not detector.spec.trained:
        print(f"warning: {detector.source} is untrained; its p_fake values are not verdicts", file=sys.stderr)


def make_scorer(detector: Detector, placement: Placement, threads: int) -> Scorer:
    """The scorer of ``detector`` where ``placement`` says; a detector of the other runtime is loaded again
    from the checkpoint it carries. EngineError when that cannot run here."""
    if not placement.use_torch:
        if not isinstance(detector, OnnxDetector):
            detector = load_onnx_detector(detector.checkpoint)
        try:
            return OnnxScorer(detector, threads)
        except ClipWeightsError as exc:
            raise EngineError(str(exc)) from None
    if isinstance(detector, OnnxDetector):
        detector = load_torch_detector(detector.checkpoint)
    import torch

    from realtime.torch_scorer import TorchScorer

    torch.set_num_threads(threads)
    return TorchScorer(detector, torch.device(placement.device))


@dataclass
class Engine:
    """A configured engine: settings, detector, placement and scorer, ready to run sources."""

    config: EngineConfig
    detector: Detector
    settings: ScoringSettings
    scorer: Scorer
    placement: Placement
    threads: int = 1  # CPU threads the model runs on (ONNX Runtime, torch)
    _torch_model: LoadedModel | None = field(default=None, repr=False)

    @property
    def spec(self) -> ModelSpec:
        return self.detector.spec

    @property
    def model_source(self) -> str:
        return self.detector.source

    @property
    def checkpoint_sha256(self) -> str | None:
        """The sha256 of the checkpoint file the detector came from (None for a model that is no file)."""
        return self.detector.checkpoint_sha256

    @property
    def threshold(self) -> float:
        return self.settings.threshold

    @property
    def crop(self) -> CropSettings:
        return crop_settings(self.spec)

    @property
    def device(self) -> str:
        return self.placement.device

    @property
    def runtime(self) -> str:
        return self.scorer.runtime

    def pacing_for(self, source: FrameSource) -> CropPacing:
        return pacing_for(source, self.config, self.spec, self.device)

    def open_source(self, spec: str | None, on_status: StatusCallback | None = None) -> FrameSource:
        """The source ``spec`` names with this engine's pacing, timeouts and reconnect policy (not opened)."""
        return open_configured_source(self.config, spec, on_status)

    def pipeline(
        self,
        sources: list[FrameSource],
        sinks: Sinks,
        on_frame: Callable[[AnalyzedFrame], None] | None = None,
        detect_every: list[int | None] | None = None,
    ) -> Pipeline:
        """The threads that run ``sources`` through this engine's model (not started). ``sinks``: a callable
        or named sinks, run on their own thread; ``detect_every``: per-source detection rates overriding the
        configuration's (None entries keep it)."""
        pacing = [self.pacing_for(source) for source in sources]
        return Pipeline(
            sources, self.scorer, self.config, self.settings, self.crop, sinks, on_frame, detect_every, pacing
        )

    def torch_model(self) -> LoadedModel | None:
        """The detector in torch for what only torch does (Grad-CAM); None where torch is not installed."""
        if self._torch_model is None:
            if not isinstance(self.detector, OnnxDetector):
                self._torch_model = self.detector
            elif torch_available():
                self._torch_model = load_torch_detector(self.detector.checkpoint)
        return self._torch_model


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
    """Resolves device and runtime once, loads the detector (or takes ``detector``), builds the scorer.

    ``threads``: CPU threads for inference (default: the configuration's). ``for_scan``: whole-file
    scans score one crop per backbone pass on a CPU, so a report is reproducible bit for bit (batch
    shapes change float rounding) at no cost in speed there. Raises EngineError with one line.
    """
    threads = threads or config.resolved_torch_threads(whole_file=for_scan)
    placement = resolve_placement(config)
    if detector is None:
        detector = load_detector(placement, model_path)
        warn_if_untrained(detector)
    scorer = make_scorer(detector, placement, threads)
    if for_scan:
        # Whole files: faces interpolated between detections, and on a CPU one crop per model pass.
        config = scan_config(config)
        if placement.device == "cpu":
            config = dataclasses.replace(config, max_batch=1)
    settings = resolve_settings(config, detector.spec, placement.device)
    return Engine(config, detector, settings, scorer, placement, threads)
