"""Heads compared on one CLIP feature cache: the probe and what each ingredient adds, chosen on validation
windows only (the test split is reported, never chosen on), then leave-one-family-out and seeds for the choice.

    python -m training.compare_heads --out out/heads.json

Every head is experts over L2-normalised token summaries fused by their maximum (one expert: a plain
linear head). What varies: which summaries (blocks), which fakes each expert learns (the collected
fakes; blending families; re-rendered and animated faces), whether the aligned pairs (fakes beside
their degraded twins) train too, hypersphere augmentation, the L2 penalty (a small grid, by validation).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from models.clip.graph import parse_summaries
from training.data.crop_cache import default_cache
from training.data.splits import TEST, TRAIN, VAL
from training.experts import Expert, fit_expert, fused_crop_scores, normalized
from training.feature_cache import FeatureCache, default_feature_root
from training.head_eval import family_figures, score_windows, summary
from training.pair_features import ROUNDS
from training.samples import CLEAN, Window, load_windows

BLEND = frozenset({"self_blend", "swap", "mouth_blend", "eyes_blend", "flicker", "rerender_blend"})
RENDER = frozenset({"rerender_whole", "one_shot", "frozen_background", "interpolated"})
L2_GRID = (1e-5, 1e-4, 1e-3)


@dataclass(frozen=True)
class HeadConfig:
    name: str
    summaries: str = "cls12"
    experts: tuple[str, ...] = ("provided",)  # provided | blend | render | all
    pairs: bool = False  # the aligned pairs train too (else: clean crops of provided fakes and reals only)
    augment: float = 0.0  # hypersphere samples per class, as a share of its count
    l2: float | None = None  # None: chosen on validation from L2_GRID
    exclude_family: str = ""  # leave-one-family-out: this provided family's fakes never train
    seed: int = 0
    subsample: float = 1.0  # share of training clips kept (by a seeded hash of the clip id)


@dataclass
class HeadResult:
    config: HeadConfig
    l2: float
    val: dict
    test: dict
    experts: list[Expert] = field(repr=False, default_factory=list)


def expert_fakes(name: str, window: Window, exclude_family: str) -> bool:
    """Whether a training fake window belongs to expert ``name``'s fakes."""
    if window.synthetic:
        return (
            (name == "blend" and window.family in BLEND)
            or (name == "render" and window.family in RENDER)
            or (name == "all")
        )
    return name in ("provided", "all") and window.family != exclude_family


def kept(window: Window, config: HeadConfig) -> bool:
    if config.subsample >= 1.0:
        return True
    digest = hashlib.sha1(f"{config.seed}:{window.clip_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF < config.subsample


def train_windows(windows: Sequence[Window], config: HeadConfig) -> list[Window]:
    return [w for w in windows if w.split == TRAIN and (config.pairs or w.origin == CLEAN) and kept(w, config)]


def fit_head(windows: Sequence[Window], config: HeadConfig, l2: float) -> list[Expert]:
    summaries = parse_summaries(config.summaries)
    training = train_windows(windows, config)
    reals = normalized([w for w in training if w.label == 0], summaries)
    experts = []
    for number, name in enumerate(config.experts):
        fakes = normalized(
            [w for w in training if w.label == 1 and expert_fakes(name, w, config.exclude_family)], summaries
        )
        experts.append(fit_expert(name, reals, fakes, len(summaries), l2, config.augment, config.seed * 100 + number))
    return experts


def evaluate_head(windows: Sequence[Window], config: HeadConfig, experts: list[Expert], with_ci: bool = False):
    summaries = parse_summaries(config.summaries)
    scored_windows = [w for w in windows if w.split in (VAL, TEST)]
    scores = fused_crop_scores(experts, normalized(scored_windows, summaries))
    scored = score_windows(scored_windows, scores)
    return family_figures(scored, VAL, with_ci), family_figures(scored, TEST, with_ci), scored


def selection_score(figures: dict) -> float:
    """What validation chooses by: the collected fakes overall and the worst family, equally."""
    figures = summary(figures)
    return 0.5 * figures["all_provided"] + 0.5 * figures["worst"]


def run_config(windows: Sequence[Window], config: HeadConfig, with_ci: bool = False) -> HeadResult:
    best: HeadResult | None = None
    for l2 in [config.l2] if config.l2 is not None else L2_GRID:
        experts = fit_head(windows, config, l2)
        val, test, _ = evaluate_head(windows, config, experts, with_ci)
        result = HeadResult(config, l2, val, test, experts)
        if best is None or selection_score(val) > selection_score(best.val):
            best = result
    assert best is not None
    return best


CANDIDATES = (
    HeadConfig("probe: cls12, collected fakes, clean crops"),
    HeadConfig("+ aligned pairs", pairs=True),
    HeadConfig("+ blocks 4, 8, 12", summaries="cls4,cls8,cls12", pairs=True),
    HeadConfig("+ blocks 6, 9, 12", summaries="cls6,cls9,cls12", pairs=True),
    HeadConfig("+ patch mean 12", summaries="cls6,cls9,cls12,patch_mean12", pairs=True),
    HeadConfig("one linear head over all fakes", summaries="cls6,cls9,cls12", experts=("all",), pairs=True),
    HeadConfig("experts: collected + blend", summaries="cls6,cls9,cls12", experts=("provided", "blend"), pairs=True),
    HeadConfig(
        "experts: collected + blend + render",
        summaries="cls6,cls9,cls12",
        experts=("provided", "blend", "render"),
        pairs=True,
    ),
    HeadConfig(
        "experts x3 + hypersphere augmentation",
        summaries="cls6,cls9,cls12",
        experts=("provided", "blend", "render"),
        pairs=True,
        augment=0.5,
    ),
)


def compact(result: HeadResult) -> dict:
    return {"config": asdict(result.config), "l2": result.l2, "val": summary(result.val), "test": summary(result.test)}


def leave_one_family_out(windows: Sequence[Window], config: HeadConfig) -> list[dict]:
    """Each provided family left out of training, scored on its fakes of every split against the test reals."""
    families = sorted({w.family for w in windows if w.label == 1 and not w.synthetic and w.origin == CLEAN})
    rows = []
    for family in families:
        held = replace(config, exclude_family=family, name=f"without {family}")
        experts = fit_head(windows, held, run_l2(config))
        summaries = parse_summaries(config.summaries)
        fakes = [w for w in windows if w.origin == CLEAN and w.label == 1 and w.family == family]
        reals = [w for w in windows if w.origin == CLEAN and w.label == 0 and w.split == TEST]
        scored = score_windows(fakes + reals, fused_crop_scores(experts, normalized(fakes + reals, summaries)))
        from training.head_eval import _auc_row

        row = _auc_row([s.logit for s in scored[: len(fakes)]], [s.logit for s in scored[len(fakes) :]], True)
        rows.append({"family": family, **row})
    return sorted(rows, key=lambda row: row["video_auc"])


_CHOSEN_L2: dict[str, float] = {}


def run_l2(config: HeadConfig) -> float:
    return _CHOSEN_L2.get(config.name, config.l2 or 1e-4)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=Path, default=default_cache())
    parser.add_argument("--features", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--out", type=Path, default=Path("out/heads.json"))
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    features = FeatureCache(args.features or default_feature_root(224))
    windows = load_windows(args.crops.expanduser(), features, args.rounds)
    print(f"{len(windows)} windows", file=sys.stderr)
    results = []
    for config in CANDIDATES:
        result = run_config(windows, config)
        _CHOSEN_L2[config.name] = result.l2
        results.append(result)
        row = compact(result)
        print(json.dumps({"head": config.name, "l2": result.l2, "val": row["val"], "test": row["test"]}), flush=True)
    chosen = max(results, key=lambda r: selection_score(r.val))
    report = {
        "candidates": [compact(r) for r in results],
        "chosen": chosen.config.name,
        "chosen_test_families": run_config(windows, replace(chosen.config, l2=chosen.l2), with_ci=True).test,
        "leave_one_family_out": leave_one_family_out(windows, chosen.config),
        "seeds": [
            compact(run_config(windows, replace(chosen.config, l2=chosen.l2, seed=seed, subsample=0.9)))
            for seed in range(args.seeds)
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps({"chosen": chosen.config.name, "out": str(args.out)}))


if __name__ == "__main__":
    main()
