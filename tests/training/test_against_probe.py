"""The shipped head set against the probe on the same clips (training.against_probe)."""

import numpy as np

from training.against_probe import comparison
from training.data.splits import TEST, VAL
from training.head_eval import Scored
from training.samples import CLEAN, PAIR, Window


def scored(label: int, split: str, kind: str, logit: float, origin: str = CLEAN) -> Scored:
    unit = f"{label}-{split}-{kind}-{logit}"
    features = np.zeros((1, 1, 4), np.float16)
    return Scored(Window(unit, unit, label, split, "x", "x", kind, origin, False, features), logit)


def test_the_difference_is_paired_on_the_splits_clean_clips_and_stills_are_their_own_row() -> None:
    rng = np.random.default_rng(0)
    clips = [(label, split, kind) for split in (VAL, TEST) for kind in ("video", "image") for label in (0, 0, 1)] * 8
    noise = rng.normal(size=len(clips))
    # The shipped head ranks every test video clip right and the probe only by noise; on the stills the
    # roles swap. A degraded pair window scored the other way round must be left out.
    shipped = [scored(lb, sp, k, lb * 10.0 if k == "video" else n) for (lb, sp, k), n in zip(clips, noise, strict=True)]
    probe = [scored(lb, sp, k, n if k == "video" else lb * 10.0) for (lb, sp, k), n in zip(clips, noise, strict=True)]
    shipped.append(scored(0, TEST, "video", 99.0, PAIR))
    probe.append(scored(0, TEST, "video", -99.0, PAIR))

    videos_and_stills = comparison(shipped, probe, TEST, stills_only=False)
    assert videos_and_stills["fakes"] == 16 and videos_and_stills["reals"] == 32  # the pair window is not counted
    stills = comparison(shipped, probe, TEST, stills_only=True)
    assert stills["fakes"] == 8 and stills["reals"] == 16
    assert stills["difference"] < 0 and stills["ci95_high"] < 0 and stills["share_a_better"] == 0.0
    assert comparison(probe, shipped, TEST, stills_only=True)["difference"] == -stills["difference"]
