"""Heads fitted on a few cached windows, as training.compare_heads and training.train_v3 fit them: which fakes
an expert learns, how collected and synthetic fakes share its weight, leave-one-family-out, the temporal
reading of a window."""

import numpy as np

from models.clip.graph import parse_summaries
from training.compare_heads import HeadConfig, fake_shares, fit_head, leave_one_family_out, validation_lofo
from training.data.splits import TEST, TRAIN, VAL
from training.experts import fused_crop_scores, normalized
from training.feature_cache import SUMMARY_ROWS
from training.samples import CLEAN, PAIR, Window
from training.temporal_check import temporal_vector

ROW = SUMMARY_ROWS["cls12"]


def window(rng, label, split, family, shift=None, synthetic=False, origin=CLEAN, crops=4, unit=""):
    features = np.zeros((crops, len(SUMMARY_ROWS), 768), np.float16)
    reading = np.zeros((crops, 768), np.float32)
    reading[:, 0] = 4.0
    reading += rng.normal(size=(crops, 768)).astype(np.float32) * 0.3
    if shift is not None:
        reading += shift
    features[:, ROW] = reading
    unit = unit or f"{family}-{split}-{rng.integers(1 << 30)}"
    return Window(unit, unit, label, split, family, family, "video", origin, synthetic, features)


def direction(index, size=1.5):
    d = np.zeros(768, np.float32)
    d[index] = size
    return d


def data(rng, collected=8, synthetic=200):
    windows = [window(rng, 0, split, "real") for split in (TRAIN, VAL, TEST) for _ in range(40)]
    for split in (TRAIN, VAL, TEST):
        windows += [window(rng, 1, split, "face swap", direction(3)) for _ in range(collected)]
        windows += [window(rng, 1, split, "talking head", direction(5)) for _ in range(collected)]
    windows += [
        window(rng, 1, TRAIN, "self_blend", direction(3, 0.4) + direction(9), True, PAIR) for _ in range(synthetic)
    ]
    return windows


def test_collected_and_synthetic_fakes_share_an_experts_weight_as_configured():
    rng = np.random.default_rng(0)
    fakes = [w for w in data(rng, synthetic=30) if w.label == 1 and w.split == TRAIN]
    weights = fake_shares(fakes, 0.5)
    synthetic = np.concatenate([np.full(len(w.features), w.synthetic) for w in fakes])
    np.testing.assert_allclose(weights[synthetic].sum(), 0.5)
    np.testing.assert_allclose(weights[~synthetic].sum(), 0.5)
    assert fake_shares(fakes, None) is None
    assert fake_shares([w for w in fakes if not w.synthetic], 0.5) is None  # one kind only: nothing to share


def test_many_synthetic_fakes_drown_the_collected_ones_unless_they_share_the_weight():
    rng = np.random.default_rng(1)
    windows = data(rng, collected=6, synthetic=400)
    test = [w for w in windows if w.split == TEST and (w.label == 0 or w.family == "talking head")]
    labels = np.array([w.label for w in test])

    def auc(config):
        experts = fit_head(windows, config, l2=1e-3)
        scores = fused_crop_scores(experts, normalized(test, parse_summaries("cls12")))
        per_window = scores.reshape(len(test), -1).mean(axis=1)
        return float(np.mean(per_window[labels == 1][:, None] > per_window[labels == 0][None, :]))

    by_count = auc(HeadConfig("by count", experts=("all",), pairs=True))
    shared = auc(HeadConfig("shared", experts=("all",), pairs=True, collected_share=0.5))
    assert shared > 0.95
    assert shared > by_count


def test_a_family_left_out_of_training_is_scored_but_never_learned():
    rng = np.random.default_rng(2)
    windows = data(rng, collected=10, synthetic=0)
    config = HeadConfig("probe", l2=1e-3)
    rows = {row["family"]: row for row in leave_one_family_out(windows, config, 1e-3)}
    # The two collected families lie in unrelated directions: without its own fakes, neither is found.
    assert set(rows) == {"face swap", "talking head"}
    assert all(row["video_auc"] < 0.75 for row in rows.values())
    assert rows["face swap"]["fakes"] == 30 and rows["face swap"]["reals"] == 40
    # Trained with both, each is found: the held-out scores above come from leaving the family out.
    experts = fit_head(windows, config, 1e-3)
    reals = [w for w in windows if w.split == TEST and w.label == 0]
    swaps = [w for w in windows if w.family == "face swap"]
    scores = fused_crop_scores(experts, normalized(reals + swaps, parse_summaries("cls12"))).reshape(-1, 4).mean(1)
    assert np.mean(scores[len(reals) :][:, None] > scores[: len(reals)][None, :]) > 0.95
    validation = validation_lofo(windows, config, 1e-3)
    assert set(validation) == {"face swap", "talking head"} and max(validation.values()) < 0.75


def test_the_temporal_reading_of_a_still_window_has_no_steps():
    still = np.tile(np.linspace(0, 1, 8, dtype=np.float32), (4, 1))
    flicker = still.copy()
    flicker[1::2] += 0.5
    assert np.all(temporal_vector(still)[8:] == 0)
    np.testing.assert_allclose(temporal_vector(flicker)[8:], 0.5, atol=1e-6)
    np.testing.assert_allclose(temporal_vector(flicker)[:8], still[0] + 0.25, atol=1e-6)


def test_methods_are_tabled_against_the_clean_test_reals_worst_first():
    from dataclasses import replace

    from training.train_v3 import method_rows

    rng = np.random.default_rng(3)
    reals = [window(rng, 0, TEST, "real") for _ in range(4)]
    swaps = [replace(window(rng, 1, TEST, "face swap"), method="DeepFaceLab") for _ in range(2)]
    lips = [replace(window(rng, 1, TEST, "lip sync"), method="Wav2Lip") for _ in range(2)]
    # Neither a validation fake nor a synthetic one, nor a degraded pair, enters the table.
    others = [
        window(rng, 1, VAL, "face swap"),
        window(rng, 1, TEST, "self_blend", synthetic=True, origin=PAIR),
        window(rng, 0, TEST, "real", origin=PAIR),
    ]
    scores = [0.1, 0.2, 0.3, 0.6, 0.9, 0.8, 0.25, 0.5, 0.0, 1.0, 1.0]  # reals, swaps, lip syncs, others
    rows = method_rows(reals + swaps + lips + others, scores, threshold=0.5)
    assert rows == [
        {"method": "Wav2Lip", "family": "lip sync", "clips": 2, "video_auc": 0.625, "flagged": 0.5},
        {"method": "DeepFaceLab", "family": "face swap", "clips": 2, "video_auc": 1.0, "flagged": 1.0},
    ]


def test_collected_fakes_are_set_against_their_own_real_twins():
    from dataclasses import replace

    from training.train_v3 import twin_rows

    rng = np.random.default_rng(4)
    twin_a, twin_b, stranger = (window(rng, 0, TEST, "real") for _ in range(3))
    lip = replace(window(rng, 1, TEST, "lip sync"), method="HyperLips")
    swaps = [replace(window(rng, 1, TEST, "face swap"), method="DeepFaceLive") for _ in range(2)]
    orphan = replace(window(rng, 1, TEST, "face swap"), method="E4S")  # no real of its footage in the split
    degraded_twin = window(rng, 0, TEST, "real", origin=PAIR)
    group_of = {
        twin_a.clip_id: "a", twin_b.clip_id: "b", stranger.clip_id: "c", lip.clip_id: "a",
        swaps[0].clip_id: "b", swaps[1].clip_id: "b", orphan.clip_id: "d", degraded_twin.clip_id: "d",
    }  # fmt: skip
    units = [twin_a, twin_b, stranger, lip, *swaps, orphan, degraded_twin]
    scores = [0.4, 0.2, 0.9, 0.3, 0.5, 0.1, 0.8, 0.1]
    rows = twin_rows(units, scores, group_of)
    assert rows == [
        {"method": "HyperLips", "family": "lip sync", "pairs": 1, "above_twin": 0.0, "mean_gap": -0.1},
        {"method": "DeepFaceLive", "family": "face swap", "pairs": 2, "above_twin": 0.5, "mean_gap": 0.1},
    ]


def test_each_pair_fake_is_set_against_its_own_twin():
    from training.compare_heads import twin_differences

    rng = np.random.default_rng(5)
    windows = []
    for number in range(3):
        footage = rng.normal(size=768).astype(np.float32)
        unit = f"pair-{number}"
        windows.append(window(rng, 0, TRAIN, "real", footage, origin=PAIR, unit=unit + "#real"))
        windows.append(window(rng, 1, TRAIN, "self_blend", footage + direction(7), True, PAIR, unit=unit))
    provided = window(rng, 1, TRAIN, "face swap", direction(3), origin=PAIR, unit="swap.r0")
    twin = window(rng, 0, TRAIN, "real", origin=PAIR, unit="swap.r0#twin")
    lonely = window(rng, 1, TRAIN, "face swap", direction(3), origin=PAIR, unit="orphan.r0")  # no real twin
    collected = window(rng, 1, TRAIN, "face swap", direction(3))  # as cut: no twin degraded alike
    windows += [provided, twin, lonely, collected]
    summaries = parse_summaries("cls12")

    fakes = [w for w in windows if w.label == 1]
    reals = [w for w in windows if w.label == 0]
    differences = twin_differences(fakes, normalized(fakes, summaries), reals, normalized(reals, summaries))

    assert differences.shape == (4, 768)
    expected = normalized([provided], summaries).mean(0) - normalized([twin], summaries).mean(0)
    np.testing.assert_allclose(differences[3], expected, atol=1e-6)
    # Same footage, different edit: the difference points along the edit (direction 7), not the footage.
    assert all(np.argmax(np.abs(row)) == 7 for row in differences[:3])
