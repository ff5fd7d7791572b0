"""Temporal fakes: windows whose single frames look plausible but whose motion is wrong.

Four families, each on a (T, H, W, 3) uint8 window of consecutive real crops with their (T, 68, 2)
landmarks; each returns the fake window and (T, H, W) float32 masks in [0, 1]:

- one-shot animation (:func:`one_shot_window`): frame 0 is warped along every frame's landmarks,
  as talking-head generators animate a single photo; the background stays the reference's.
- frozen background (:func:`frozen_background_window`): each frame's face over frame 0's background,
  as talking heads pasted back into a still frame.
- flicker (:func:`flicker_window`): a self-blend whose parameters jitter from frame to frame, as
  frame-by-frame face swaps do.
- interpolation (:func:`interpolated_window`): some frames replaced by in-betweens of their
  neighbours, as frame-rate up-conversion does.

Parameters are drawn once per window by the ``sample_*`` functions (flicker draws its per-frame
jitter there too), so each function is deterministic given its parameters. Each family also
accepts T == 1 (single crops) and documents what it returns then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from training.data.synthesis import BlendParams, blend, face_mask, hull_points, sample_blend_params, self_blend
from training.data.synthesis_region import grow_polygon

JAW_ENDS = (0, 16)
RBF_RIDGE = 1e-2  # regularises the RBF system: some landmarks nearly coincide (inner and outer lips)
FIELD_GRID = 32  # the displacement field is evaluated on about this many points per side, then resized
MASK_SUPERSAMPLING = 4  # the head weight is drawn this much finer than the field grid, so it moves smoothly
INTERPOLATION_METHODS = ("flow", "average")


@dataclass(frozen=True)
class OneShotParams:
    """Random choices of one one-shot animated window."""

    rbf_width: float  # Gaussian RBF sigma of the local (expression) displacement, fraction of the face width
    head_softness: float  # sigma of the fall-off from head motion to the still background, fraction of face width
    expression_seed: int  # seed of the fixed per-landmark offset added to every driving frame
    expression_amplitude: float  # sigma of that offset, fraction of the face width
    mask: BlendParams  # soft face hull that marks the animated face


@dataclass(frozen=True)
class FrozenBackgroundParams:
    """Random choices of one frozen-background window."""

    mask: BlendParams  # soft face hull (blend_ratio 1) that keeps each frame's own face
    drift: tuple[float, float]  # background translation for single crops, fraction of the crop side


@dataclass(frozen=True)
class FlickerParams:
    """One self-blend parameter set per frame: a window's base set plus small per-frame jitter."""

    frames: tuple[BlendParams, ...]


@dataclass(frozen=True)
class InterpolationParams:
    """Which frames are replaced by in-betweens, and how the in-betweens are made."""

    replaced: tuple[int, ...]  # indices of the synthesised frames
    method: str  # "flow" (motion-compensated, Super SloMo-style) or "average" (plain cross-fade)
    neighbour_offset: tuple[float, float]  # single crops: the made-up neighbour's shift, pixels


def _head_hull_params(rng: np.random.Generator) -> BlendParams:
    """Self-blend mask choices for a whole-face region: the jaw-and-forehead hull at full opacity.

    The inner hull would leave the jaw line out, and the temporal families move the whole face.
    """
    return replace(sample_blend_params(rng), hull="extended", blend_ratio=1.0)


def face_width(landmarks: np.ndarray) -> float:
    """Jaw-end to jaw-end distance in pixels, the face scale the warps are measured in."""
    return max(float(np.linalg.norm(landmarks[JAW_ENDS[1]] - landmarks[JAW_ENDS[0]])), 1.0)


# One-shot animation.


def sample_one_shot_params(rng: np.random.Generator) -> OneShotParams:
    """One window's choices for :func:`one_shot_window`."""
    return OneShotParams(
        rbf_width=float(rng.uniform(0.08, 0.16)),
        head_softness=float(rng.uniform(0.03, 0.06)),
        expression_seed=int(rng.integers(0, 2**31 - 1)),
        expression_amplitude=float(rng.uniform(0.002, 0.008)),
        # The mask labels the animated face rather than a blending seam, so it needs no deformation.
        mask=replace(_head_hull_params(rng), warp_amplitude=0.0),
    )


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x3 least-squares similarity (rotation, uniform scale, shift) taking ``source`` points to ``target``."""
    x, y = source[:, 0], source[:, 1]
    ones, zeros = np.ones_like(x), np.zeros_like(x)
    design = np.concatenate([np.stack([x, -y, ones, zeros], 1), np.stack([y, x, zeros, ones], 1)])
    a, b, tx, ty = np.linalg.lstsq(design, np.concatenate([target[:, 0], target[:, 1]]), rcond=None)[0]
    return np.array([[a, -b, tx], [b, a, ty]])


def _grid_positions(count: int, side: int) -> np.ndarray:
    """Pixel positions of ``count`` samples across ``side`` pixels, where ``cv2.resize`` assumes them."""
    return (np.arange(count) + 0.5) * side / count - 0.5


def _head_weight(shape: tuple[int, int], grid: tuple[int, int], driving: np.ndarray, softness: float) -> np.ndarray:
    """(grid_h, grid_w) weight of head motion: 1 on the dilated jaw-and-forehead hull, fading to 0.

    The hull is dilated by 2.5 fall-off sigmas so that the weight is 1 at every landmark, and
    drawn finer than the grid so that it moves smoothly with the face.
    """
    (height, width), (grid_h, grid_w) = shape, grid
    fine_w, fine_h = grid_w * MASK_SUPERSAMPLING, grid_h * MASK_SUPERSAMPLING
    to_fine = np.array([fine_w / width, fine_h / height])
    polygon = cv2.convexHull(hull_points(driving, "extended").astype(np.float32)).reshape(-1, 2)
    polygon = grow_polygon(polygon, 2.5 * softness)
    weight = np.zeros((fine_h, fine_w), dtype=np.float32)
    cv2.fillConvexPoly(weight, np.rint((polygon + 0.5) * to_fine - 0.5).astype(np.int32), 1.0)
    weight = cv2.GaussianBlur(weight, (0, 0), max(softness * to_fine[0], 0.5))
    return cv2.resize(weight, (grid_w, grid_h), interpolation=cv2.INTER_AREA)


def _border_taper(grid_h: int, grid_w: int) -> np.ndarray:
    """0 on the outermost grid samples rising to 1 two samples in: pins the crop border in place."""
    ramp_y = np.clip(np.minimum(np.arange(grid_h), np.arange(grid_h)[::-1]) / 2.0, 0.0, 1.0)
    ramp_x = np.clip(np.minimum(np.arange(grid_w), np.arange(grid_w)[::-1]) / 2.0, 0.0, 1.0)
    return (ramp_y[:, None] * ramp_x[None, :]).astype(np.float32)


def _rbf_field(gx: np.ndarray, gy: np.ndarray, centres: np.ndarray, values: np.ndarray, sigma: float) -> np.ndarray:
    """(len(gy), len(gx), 2) Gaussian-RBF interpolation of ``values`` at ``centres`` on a regular grid."""
    squared = ((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-squared / (2.0 * sigma * sigma)) + RBF_RIDGE * np.eye(len(centres))
    weights = np.linalg.solve(kernel, values)
    # The Gaussian separates into x and y factors, so the field on a grid is two small matrix products.
    along_x = np.exp(-((gx[:, None] - centres[None, :, 0]) ** 2) / (2.0 * sigma * sigma))
    along_y = np.exp(-((gy[:, None] - centres[None, :, 1]) ** 2) / (2.0 * sigma * sigma))
    return np.stack([(along_y * weights[:, k]) @ along_x.T for k in range(2)], -1)


def sampling_maps(
    shape: tuple[int, int], driving: np.ndarray, reference: np.ndarray, local_sigma: float, softness: float
) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.remap`` maps that move ``reference`` landmark positions onto ``driving`` positions.

    A backward field: output pixel ``p`` samples the reference at ``p + d(p)``. ``d`` is the head
    motion (the similarity that best takes the driving landmarks to the reference ones) plus a
    Gaussian-RBF interpolation (sigma ``local_sigma`` px) of what the similarity leaves at each
    landmark (mouth, eyes, jaw), both weighted by a soft dilated head hull that is 1 at every
    landmark: the background beyond its fall-off (sigma ``softness`` px) and the crop border do
    not move. The field is evaluated on a coarse grid and resized to full resolution.
    """
    height, width = shape
    grid_w, grid_h = min(FIELD_GRID, width), min(FIELD_GRID, height)
    gx, gy = _grid_positions(grid_w, width), _grid_positions(grid_h, height)
    matrix = similarity_transform(driving, reference)
    grid = np.stack(np.meshgrid(gx, gy), -1)
    head_motion = grid @ matrix[:, :2].T + matrix[:, 2] - grid
    residual = reference - (driving @ matrix[:, :2].T + matrix[:, 2])
    local = _rbf_field(gx, gy, driving, residual, local_sigma)
    weight = _head_weight(shape, (grid_h, grid_w), driving, softness) * _border_taper(grid_h, grid_w)
    coarse = ((head_motion + local) * weight[..., None]).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return xs + field[..., 0], ys + field[..., 1]


def warp_to_landmarks(
    reference: np.ndarray, reference_points: np.ndarray, driving_points: np.ndarray, local_sigma: float, softness: float
) -> np.ndarray:
    """``reference`` (H, W, 3) uint8 warped so its landmarks land on ``driving_points`` (see :func:`sampling_maps`)."""
    map_x, map_y = sampling_maps(reference.shape[:2], driving_points, reference_points, local_sigma, softness)
    return cv2.remap(reference, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def one_shot_window(crops: np.ndarray, landmarks: np.ndarray, params: OneShotParams) -> tuple[np.ndarray, np.ndarray]:
    """Frame 0 animated along the landmarks of every frame (a one-shot talking head).

    Output frame t is the whole reference frame warped so that its landmarks land on frame t's
    landmarks plus a fixed per-window offset (a retargeting error, and what makes frame 0 and
    single crops re-renderings rather than copies: with T == 1 the result is the crop warped
    toward a jittered copy of its own landmarks). The head moves as a whole (similarity plus
    local expression); the warp fades to zero beyond the head and at the crop border, so the
    background is the reference's in every frame. The mask is not where pixels changed (all of
    them may have): it is the soft jaw-and-forehead hull of frame t's driving landmarks, the face
    whose motion is synthesised.
    """
    reference, reference_points = crops[0], landmarks[0].astype(np.float64)
    scale = face_width(reference_points)
    offset_rng = np.random.default_rng(params.expression_seed)
    offset = offset_rng.normal(0.0, params.expression_amplitude * scale, size=reference_points.shape)
    local_sigma, softness = params.rbf_width * scale, params.head_softness * scale
    fakes, masks = [], []
    for points in landmarks:
        driving = points.astype(np.float64) + offset
        fakes.append(warp_to_landmarks(reference, reference_points, driving, local_sigma, softness))
        masks.append(face_mask(reference.shape[:2], driving, params.mask))
    return np.stack(fakes), np.stack(masks)


# Frozen background.


def sample_frozen_background_params(rng: np.random.Generator) -> FrozenBackgroundParams:
    """One window's choices for :func:`frozen_background_window`."""
    drift = (float(rng.uniform(-0.04, 0.04)), float(rng.uniform(-0.04, 0.04)))
    return FrozenBackgroundParams(mask=_head_hull_params(rng), drift=drift)


def _translated(image: np.ndarray, offset_px: tuple[float, float]) -> np.ndarray:
    height, width = image.shape[:2]
    matrix = np.array([[1.0, 0.0, offset_px[0]], [0.0, 1.0, offset_px[1]]])
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def frozen_background_window(
    crops: np.ndarray, landmarks: np.ndarray, params: FrozenBackgroundParams
) -> tuple[np.ndarray, np.ndarray]:
    """Every frame's own face over frame 0's background.

    The kept face region is the union of frame t's soft face hull and frame 0's, so frame 0's
    face never shows beside the moving one. The mask is the frozen part, 1 minus that region:
    pixels where it is 0 equal the real frame's. With T == 1 the background is the crop itself
    translated by ``params.drift`` (a camera that moved since the background frame was taken).
    """
    shape = crops.shape[1:3]
    drift_px = (params.drift[0] * shape[1], params.drift[1] * shape[0])
    background = crops[0] if len(crops) > 1 else _translated(crops[0], drift_px)
    reference_face = face_mask(shape, landmarks[0], params.mask)
    fakes, masks = [], []
    for index, (image, points) in enumerate(zip(crops, landmarks, strict=True)):
        face = np.maximum(face_mask(shape, points, params.mask), reference_face) if index else reference_face
        fakes.append(blend(background, image, face))
        masks.append(1.0 - face)
    return np.stack(fakes), np.stack(masks)


# Flicker.


def sample_flicker_params(rng: np.random.Generator, length: int) -> FlickerParams:
    """A base self-blend set and ``length`` jittered copies of it (opacity, colour, mask size, shift)."""
    base = sample_blend_params(rng)
    strength = float(rng.uniform(0.5, 1.5))
    frames = []
    for _ in range(length):
        hue, saturation, value = rng.normal(0.0, (1.5, 5.0, 5.0)) * strength
        frames.append(
            replace(
                base,
                blend_ratio=float(np.clip(base.blend_ratio - abs(rng.normal(0.0, 0.12 * strength)), 0.3, 1.0)),
                hsv_shift=(base.hsv_shift[0] + hue, base.hsv_shift[1] + saturation, base.hsv_shift[2] + value),
                morph_px=int(base.morph_px + np.rint(rng.normal(0.0, 1.5 * strength))),
                shift=tuple(float(s + rng.normal(0.0, 0.003 * strength)) for s in base.shift),
            )
        )
    return FlickerParams(tuple(frames))


def flicker_window(crops: np.ndarray, landmarks: np.ndarray, params: FlickerParams) -> tuple[np.ndarray, np.ndarray]:
    """Each frame self-blended with its own jittered parameters; pixels where the mask is 0 stay real.

    With T == 1 the result is a single self-blend with jittered parameters.
    """
    if len(params.frames) != len(crops):
        raise ValueError(f"{len(params.frames)} flicker parameter sets for {len(crops)} frames")
    pairs = [self_blend(image, points, p) for image, points, p in zip(crops, landmarks, params.frames, strict=True)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


# Frame interpolation.


def sample_interpolation_params(rng: np.random.Generator, length: int) -> InterpolationParams:
    """Every other frame, or a random subset of the inner frames, to be replaced by in-betweens.

    The first and last frames stay original so every replaced frame has a neighbour on each side;
    windows shorter than 3 replace all their frames (see :func:`interpolated_window`).
    """
    inner = np.arange(1, length - 1)
    if len(inner) == 0:
        replaced = tuple(range(length))
    elif rng.random() < 0.5:
        replaced = tuple(int(i) for i in inner[int(rng.integers(2)) :: 2]) or (1,)
    else:
        chosen = inner[rng.random(len(inner)) < 0.5]
        replaced = tuple(int(i) for i in chosen) if len(chosen) else (int(rng.choice(inner)),)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    radius = rng.uniform(1.5, 4.0)
    return InterpolationParams(
        replaced=replaced,
        method=str(rng.choice(INTERPOLATION_METHODS, p=(0.8, 0.2))),
        neighbour_offset=(float(radius * np.cos(angle)), float(radius * np.sin(angle))),
    )


def _flow(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Dense optical flow (H, W, 2) from ``first`` to ``second`` (DIS, ultrafast preset)."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    return dis.calc(cv2.cvtColor(first, cv2.COLOR_RGB2GRAY), cv2.cvtColor(second, cv2.COLOR_RGB2GRAY), None)


def _backward_warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return cv2.remap(
        image, xs + flow[..., 0], ys + flow[..., 1], interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    ).astype(np.float32)


def in_between(first: np.ndarray, second: np.ndarray, position: float, method: str) -> np.ndarray:
    """The frame at ``position`` in (0, 1) between two uint8 RGB frames.

    "flow" approximates the intermediate flows linearly from the two bidirectional flows (Jiang et
    al., Super SloMo, CVPR 2018), warps both frames there and cross-fades them; "average" only
    cross-fades, the ghosting of cheap frame-rate converters.
    """
    if method == "flow":
        forward, backward = _flow(first, second), _flow(second, first)
        to_first = -(1.0 - position) * position * forward + position * position * backward
        to_second = (1.0 - position) ** 2 * forward - position * (1.0 - position) * backward
        first_part, second_part = _backward_warp(first, to_first), _backward_warp(second, to_second)
    elif method == "average":
        first_part, second_part = first.astype(np.float32), second.astype(np.float32)
    else:
        raise ValueError(f"unknown interpolation method {method!r}")
    mixed = (1.0 - position) * first_part + position * second_part
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def interpolated_window(
    crops: np.ndarray, landmarks: np.ndarray, params: InterpolationParams
) -> tuple[np.ndarray, np.ndarray]:
    """The window with ``params.replaced`` frames re-synthesised from their nearest original neighbours.

    The mask is 1 over the whole of each replaced frame and 0 on the original frames (which equal
    the real ones): interpolation re-synthesises every pixel, and its ghosting is strongest on the
    head outline, hair and ears against the background, which a landmark hull would leave out.
    With T < 3 there is no inner frame, so every frame is replaced by the halfway in-between of
    itself and a copy shifted by ``params.neighbour_offset`` (a made-up neighbour). ``landmarks``
    are unused: the motion comes from the pixels.
    """
    fakes = crops.copy()
    masks = np.zeros(crops.shape[:3], dtype=np.float32)
    replaced = set(params.replaced)
    originals = [i for i in range(len(crops)) if i not in replaced]
    for index in sorted(replaced):
        before = [i for i in originals if i < index]
        after = [i for i in originals if i > index]
        if before and after:
            first, second = before[-1], after[0]
            position = (index - first) / (second - first)
            fakes[index] = in_between(crops[first], crops[second], position, params.method)
        else:
            neighbour = _translated(crops[index], params.neighbour_offset)
            fakes[index] = in_between(crops[index], neighbour, 0.5, params.method)
        masks[index] = 1.0
    return fakes, masks
