"""The shipped default checkpoint: small, calibrated, carrying its own evaluation, and, run by the engine as a
user runs it, it scores a held-out live swap above the real half of the same demo."""

from __future__ import annotations

import pytest

from models.spec import DEFAULT_CHECKPOINT
from realtime.config import EngineConfig
from realtime.engine import Engine, build_engine
from realtime.summary import VerdictSummary
from services.scan.scan import FileScan
from tests.support.data import shared_clip

HELD_OUT_PAIR = "iperov__DeepFaceLive__Dean_Wiesel_0_"  # a footage group of the test split (models.data.splits, seed 0)


@pytest.fixture(scope="module")
def shipped() -> Engine:
    if not DEFAULT_CHECKPOINT.is_file():
        pytest.skip(f"no shipped checkpoint at {DEFAULT_CHECKPOINT}")
    return build_engine(EngineConfig(device="cpu", torch_threads=1), DEFAULT_CHECKPOINT)


def test_checkpoint_is_small_trained_calibrated_and_says_how_it_was_evaluated(shipped: Engine) -> None:
    assert DEFAULT_CHECKPOINT.stat().st_size <= 30 * 1024 * 1024
    spec = shipped.spec
    assert spec.trained and spec.training_data
    assert 0.5 <= spec.threshold < 1.0 and spec.temperature > 0
    families = spec.metrics["evaluation"]["families"]
    assert families and all(0.0 <= row["video_auc"] <= 1.0 and row["clips"] > 0 for row in families)


def video_p_fake(engine: Engine, name_prefix: str, label: str) -> float:
    result = FileScan(shared_clip(label, name_prefix), engine).run()
    summary = VerdictSummary()
    for verdict in result.verdicts:
        summary.add(verdict)
    score = summary.video_p_fake()
    assert score is not None, f"no face scored in the {label} clip"
    return score


@pytest.mark.slow
def test_the_engine_scores_a_held_out_swap_above_its_real_half(shipped: Engine) -> None:
    real = video_p_fake(shipped, HELD_OUT_PAIR, "real")
    fake = video_p_fake(shipped, HELD_OUT_PAIR, "fake")
    assert 0.0 <= real < fake <= 1.0
