"""The synthesis families behind one common signature, by name.

Every family is a function ``make(crops, landmarks, rng, context) -> (fake, mask)``:

- ``crops`` (T, H, W, 3) uint8 RGB, consecutive real crops of one clip (T == 1 for single crops);
- ``landmarks`` (T, 68, 2) float32, dlib order, in crop pixels;
- ``rng`` a ``np.random.Generator``: the family draws its parameters from it once per window
  (flicker also draws its per-frame jitter), so the result is deterministic given the rng state;
- ``context`` a :class:`SynthesisContext` with what some families need beyond the window;
- ``fake`` (T, H, W, 3) uint8 and ``mask`` (T, H, W) float32 in [0, 1].

In every family but ``one_shot``, pixels where the mask is 0 equal the real ones: the spatially
local families mask the pasted region, ``frozen_background`` masks the frozen background,
``interpolated`` masks whole synthesised frames and ``rerender_whole`` is all ones. ``one_shot``
re-synthesises the whole frame and masks the animated face. :attr:`Family.description` says the
same per family.

Importing this module never imports torch: the autoencoder families import
``training.data.autoencoders`` when first called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from training.data.synthesis import face_swap_window, sample_blend_params, self_blend_window
from training.data.synthesis_region import (
    eyes_blend_window,
    mouth_blend_window,
    sample_eyes_params,
    sample_mouth_params,
)
from training.data.synthesis_temporal import (
    flicker_window,
    frozen_background_window,
    interpolated_window,
    one_shot_window,
    sample_flicker_params,
    sample_frozen_background_params,
    sample_interpolation_params,
    sample_one_shot_params,
)

Window = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class SynthesisContext:
    """What a family may need beyond the window itself."""

    # (crops (T, H, W, 3) uint8, landmarks (T, 68, 2)) of another identity, for swaps
    donor: tuple[np.ndarray, np.ndarray] | None = None
    autoencoders: object | None = None  # an AutoencoderBank (training.data.autoencoders) for re-rendered families


FamilyFunction = Callable[[np.ndarray, np.ndarray, np.random.Generator, SynthesisContext], Window]


@dataclass(frozen=True)
class Family:
    """One registered synthesis family."""

    name: str
    make: FamilyFunction
    needs_donor: bool  # context.donor must be set
    needs_autoencoders: bool  # context.autoencoders must be set
    temporal: bool  # the fake is in the motion: single frames are plausible, T == 1 is a fallback
    description: str
    # In the aligned pairs' rotation (training.pair_features). A family added later stays out of it, so
    # the cached pairs of the families before it keep their meaning; it gets pairs of its own instead.
    rotates: bool = True


# Module-level adapters rather than lambdas, so families pickle into spawned data-loader workers.


def _self_blend(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext
) -> Window:
    return self_blend_window(crops, landmarks, sample_blend_params(rng))


def _swap(crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext) -> Window:
    if context.donor is None:
        raise ValueError("the swap family needs context.donor")
    donor_crops, donor_landmarks = context.donor
    return face_swap_window(crops, landmarks, donor_crops, donor_landmarks, sample_blend_params(rng))


def _mouth_blend(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext
) -> Window:
    return mouth_blend_window(crops, landmarks, sample_mouth_params(rng))


def _eyes_blend(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext
) -> Window:
    return eyes_blend_window(crops, landmarks, sample_eyes_params(rng))


def _one_shot(crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext) -> Window:
    return one_shot_window(crops, landmarks, sample_one_shot_params(rng))


def _frozen_background(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext
) -> Window:
    return frozen_background_window(crops, landmarks, sample_frozen_background_params(rng))


def _flicker(crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext) -> Window:
    return flicker_window(crops, landmarks, sample_flicker_params(rng, len(crops)))


def _interpolated(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext
) -> Window:
    return interpolated_window(crops, landmarks, sample_interpolation_params(rng, len(crops)))


def _require_autoencoders(context: SynthesisContext, family: str) -> None:
    if context.autoencoders is None:
        raise ValueError(f"the {family} family needs context.autoencoders (an AutoencoderBank)")


def _rerender_whole(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext
) -> Window:
    _require_autoencoders(context, "rerender_whole")
    from training.data.autoencoders import rerender_whole  # imports torch, so only when used

    return rerender_whole(crops, landmarks, rng, context)


def _rerender_blend(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext
) -> Window:
    _require_autoencoders(context, "rerender_blend")
    from training.data.autoencoders import rerender_blend  # imports torch, so only when used

    return rerender_blend(crops, landmarks, rng, context)


def _mouth_rerender(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext
) -> Window:
    _require_autoencoders(context, "mouth_rerender")
    from training.data.autoencoders import mouth_rerender  # imports torch, so only when used

    return mouth_rerender(crops, landmarks, rng, context)


def _one_shot_rerender(
    crops: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, context: SynthesisContext
) -> Window:
    _require_autoencoders(context, "one_shot_rerender")
    from training.data.autoencoders import one_shot_rerender  # imports torch, so only when used

    return one_shot_rerender(crops, landmarks, rng, context)


_FAMILY_LIST = (
    Family(
        "self_blend",
        _self_blend,
        needs_donor=False,
        needs_autoencoders=False,
        temporal=False,
        description="the face blended onto a jittered copy of itself (SBI); mask: the blended face hull",
    ),
    Family(
        "swap",
        _swap,
        needs_donor=True,
        needs_autoencoders=False,
        temporal=False,
        description="a donor identity's face aligned on the landmarks and colour-matched; mask: the pasted face",
    ),
    Family(
        "mouth_blend",
        _mouth_blend,
        needs_donor=False,
        needs_autoencoders=False,
        temporal=False,
        description="a 2-4x lower-resolution mouth or lower face (lip-sync); mask: the pasted region",
    ),
    Family(
        "eyes_blend",
        _eyes_blend,
        needs_donor=False,
        needs_autoencoders=False,
        temporal=False,
        description="2-4x lower-resolution eyes, optionally brows (eye edits); mask: the pasted region",
    ),
    Family(
        "one_shot",
        _one_shot,
        needs_donor=False,
        needs_autoencoders=False,
        temporal=True,
        description="frame 0 warped along every frame's landmarks (one-shot talking head); whole frame "
        "synthesised, mask: the animated face hull",
    ),
    Family(
        "frozen_background",
        _frozen_background,
        needs_donor=False,
        needs_autoencoders=False,
        temporal=True,
        description="each frame's face over frame 0's background; mask: the frozen background",
    ),
    Family(
        "flicker",
        _flicker,
        needs_donor=False,
        needs_autoencoders=False,
        temporal=True,
        description="a self-blend whose opacity, colour and mask size jitter per frame; mask: the blended face hull",
    ),
    Family(
        "interpolated",
        _interpolated,
        needs_donor=False,
        needs_autoencoders=False,
        temporal=True,
        description="some frames replaced by flow-warped or cross-faded in-betweens; mask: 1 on those frames",
    ),
    Family(
        "rerender_whole",
        _rerender_whole,
        needs_donor=False,
        needs_autoencoders=True,
        temporal=False,
        description="the whole crop re-rendered by a small autoencoder; mask: all ones",
    ),
    Family(
        "rerender_blend",
        _rerender_blend,
        needs_donor=False,
        needs_autoencoders=True,
        temporal=False,
        description="an autoencoder re-rendering pasted through a soft face mask; mask: the pasted face",
    ),
    Family(
        "mouth_rerender",
        _mouth_rerender,
        needs_donor=False,
        needs_autoencoders=True,
        temporal=False,
        description="the mouth or lower face re-rendered by an autoencoder, 1.5-2.5x lower in resolution "
        "(lip-sync generators); mask: the pasted region",
        rotates=False,
    ),
    Family(
        "one_shot_rerender",
        _one_shot_rerender,
        needs_donor=False,
        needs_autoencoders=True,
        temporal=True,
        description="frame 0 animated along every frame's landmarks, then re-rendered by a bank autoencoder "
        "(one-shot talking heads: a warp and a decoder); mask: all ones",
        rotates=False,
    ),
)

FAMILIES: dict[str, Family] = {family.name: family for family in _FAMILY_LIST}
