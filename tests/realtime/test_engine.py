"""The engine builder: flags over checkpoint values in one place, runtime, scan settings, sources."""

from __future__ import annotations

from dataclasses import replace

from realtime.config import EngineConfig
from realtime.engine import build_engine, resolve_settings
from realtime.sources.reconnect import ReconnectingSource


def test_a_given_flag_overrides_the_checkpoint_and_an_absent_one_keeps_it(small_checkpoint):
    engine = build_engine(EngineConfig(device="cpu", torch_threads=1), small_checkpoint)
    spec = engine.spec
    assert (engine.settings.threshold, engine.settings.window) == (spec.threshold, spec.window)
    flagged = resolve_settings(EngineConfig(threshold=0.7, window=3, stride=2), spec)
    assert (flagged.threshold, flagged.window, flagged.stride) == (0.7, 3, 2)
    assert resolve_settings(EngineConfig(threshold=0.7), replace(spec, threshold=0.9)).threshold == 0.7


def test_cpu_engines_run_the_backbone_in_onnx_runtime_unless_torch_is_asked_for(small_checkpoint):
    assert build_engine(EngineConfig(device="cpu", torch_threads=1), small_checkpoint).runtime == "onnxruntime"
    torch_engine = build_engine(EngineConfig(device="cpu", torch_threads=1, runtime="torch"), small_checkpoint)
    assert torch_engine.runtime == "torch"


def test_scans_score_one_crop_per_pass_on_the_cpu(small_checkpoint):
    config = EngineConfig(device="cpu", torch_threads=1, stride=4, sample_every=2)
    scan = build_engine(config, small_checkpoint, for_scan=True)
    assert (scan.config.sample_every, scan.settings.max_batch, scan.settings.stride) == (2, 1, 4)
    assert build_engine(config, small_checkpoint).settings.max_batch == config.max_batch


def test_sources_opened_by_the_engine_carry_the_reconnect_policy_of_the_flags(small_checkpoint):
    config = EngineConfig(device="cpu", torch_threads=1, reconnect_attempts=7, reconnect_max_delay_s=3.0)
    source = build_engine(config, small_checkpoint).open_source("rtsp://127.0.0.1:9/none")
    assert isinstance(source, ReconnectingSource)
    assert (source.policy.max_attempts, source.policy.max_delay_s) == (7, 3.0)
