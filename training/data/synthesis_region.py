"""Region blends: a low-resolution copy of the crop pasted back over the mouth or the eyes.

Lip-sync generators (Wav2Lip and its kin) re-render only the mouth or the lower half of the face
at a low resolution (96 px faces) and paste it back into the full-resolution frame; eye and gaze
editors do the same around the eyes. The fakes here imitate that trace without a generator: the
pasted source is the region's box of the same crop down-scaled by 2-4x (area averaging) and
restored (bilinear or bicubic), optionally with a small brightness/colour shift and a 1-2 px
offset, blended through a soft mask built from the region's landmarks.

Parameters are drawn once per window (:func:`sample_mouth_params`, :func:`sample_eyes_params`)
and applied to every frame with that frame's landmarks, so the mask follows the face and the
down-scaling factor is the same in every frame. Outside the mask every output pixel equals the
real input pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.data.synthesis import _smooth_warp, blend

MOUTH = slice(48, 68)
LOWER_JAW = slice(2, 15)
NOSE_BASE = slice(31, 36)
# dlib's right eye (36-41) sits under the right brow (17-21), on the image's left.
EYES = (slice(36, 42), slice(42, 48))
BROWS = (slice(17, 22), slice(22, 27))
MOUTH_REGIONS = ("mouth", "lower_face")
EYE_REGIONS = ("eyes", "eyes_brows")
UPSAMPLERS = (cv2.INTER_LINEAR, cv2.INTER_CUBIC)
MASK_FLOOR = 0.02  # mask values below this are zeroed so pixels away from the region stay exactly real
# Per region: ranges of the mask's outward growth and edge blur and the largest mask deformation,
# as fractions of one polygon's width. A mouth blend covers lips and some skin around them, a
# lower-face blend (a wide polygon) stays near its outline so it never reaches the eyes, an eye
# blend covers lids and sockets.
REGION_SIZES = {
    "mouth": ((0.1, 0.35), (0.06, 0.15), 0.06),
    "lower_face": ((0.0, 0.03), (0.02, 0.04), 0.02),
    "eyes": ((0.2, 0.5), (0.1, 0.2), 0.06),
    "eyes_brows": ((0.1, 0.3), (0.08, 0.15), 0.06),
}


@dataclass(frozen=True)
class RegionParams:
    """Random choices shared by all frames of one region-blended window."""

    region: str  # one of MOUTH_REGIONS or EYE_REGIONS
    factor: float  # down-scaling factor of the pasted source
    upsample: int  # cv2 interpolation that restores the source size (one of UPSAMPLERS)
    offset_px: tuple[float, float]  # translation of the pasted source, pixels
    gain: float  # brightness factor of the source
    color_shift: tuple[float, float, float]  # per-channel RGB offsets of the source, 0-255 scale
    grow: float  # outward offset of each region polygon, fraction of the polygon's width
    edge_blur: float  # Gaussian sigma of the mask edge, fraction of the polygon width
    warp_seed: int  # seed of the smooth random displacement that deforms the mask
    warp_amplitude: float  # displacement amplitude, fraction of the polygon width
    blend_ratio: float  # opacity of the pasted source inside the mask


def sample_mouth_params(rng: np.random.Generator) -> RegionParams:
    """One window's choices for a lip-sync-style blend: the mouth alone or the whole lower face."""
    region = str(rng.choice(MOUTH_REGIONS, p=(0.6, 0.4)))
    return _sample_region_params(rng, region)


def sample_eyes_params(rng: np.random.Generator) -> RegionParams:
    """One window's choices for an eye-region blend, with or without the brows."""
    region = str(rng.choice(EYE_REGIONS))
    return _sample_region_params(rng, region)


def _sample_region_params(rng: np.random.Generator, region: str) -> RegionParams:
    grow, blur, max_warp = REGION_SIZES[region]
    offset = (0.0, 0.0)
    if rng.random() < 0.5:
        # A 1-2 px misregistration, as when a generated patch is pasted back at a rounded box.
        angle = rng.uniform(0.0, 2.0 * np.pi)
        radius = rng.uniform(1.0, 2.0)
        offset = (float(radius * np.cos(angle)), float(radius * np.sin(angle)))
    gain, color = 1.0, (0.0, 0.0, 0.0)
    if rng.random() < 0.5:
        gain = float(rng.uniform(0.93, 1.07))
        color = tuple(float(v) for v in rng.uniform(-6.0, 6.0, size=3))
    return RegionParams(
        region=region,
        factor=float(rng.uniform(2.0, 4.0)),
        upsample=int(rng.choice(UPSAMPLERS)),
        offset_px=offset,
        gain=gain,
        color_shift=color,
        grow=float(rng.uniform(*grow)),
        edge_blur=float(rng.uniform(*blur)),
        warp_seed=int(rng.integers(0, 2**31 - 1)),
        warp_amplitude=float(rng.uniform(0.0, max_warp)),
        blend_ratio=float(rng.choice((0.85, 1.0, 1.0))),
    )


def region_polygons(landmarks: np.ndarray, region: str) -> list[np.ndarray]:
    """Convex polygons (float32 points) covering ``region``, from 68 landmarks in crop pixels."""
    if region == "mouth":
        parts = [landmarks[MOUTH]]
    elif region == "lower_face":
        parts = [np.concatenate([landmarks[LOWER_JAW], landmarks[NOSE_BASE]])]
    elif region == "eyes":
        parts = [landmarks[eye] for eye in EYES]
    elif region == "eyes_brows":
        parts = [np.concatenate([landmarks[eye], landmarks[brow]]) for eye, brow in zip(EYES, BROWS, strict=True)]
    else:
        raise ValueError(f"unknown region {region!r}")
    return [cv2.convexHull(part.astype(np.float32)).reshape(-1, 2) for part in parts]


def grow_polygon(polygon: np.ndarray, distance: float) -> np.ndarray:
    """The convex polygon pushed ``distance`` pixels outward from its centroid (a cheap offset curve)."""
    centre = polygon.mean(0)
    radial = polygon - centre
    lengths = np.maximum(np.linalg.norm(radial, axis=1, keepdims=True), 1e-3)
    return polygon + radial / lengths * distance


Box = tuple[slice, slice]


def _polygon_width(polygons: list[np.ndarray]) -> float:
    return max(float(np.mean([np.ptp(polygon[:, 0]) for polygon in polygons])), 1.0)


def _box(shape: tuple[int, int], polygons: list[np.ndarray], margin: float) -> Box:
    """Rows and columns around the polygons plus ``margin`` pixels, clipped to the crop (maybe empty)."""
    points = np.concatenate(polygons)
    low = np.floor(points.min(0) - margin).astype(int)
    high = np.ceil(points.max(0) + margin).astype(int) + 1
    x0, y0 = np.clip(low, 0, (shape[1], shape[0]))
    x1, y1 = np.clip(high, (x0, y0), (shape[1], shape[0]))
    return slice(int(y0), int(y1)), slice(int(x0), int(x1))


def region_mask_in_box(shape: tuple[int, int], landmarks: np.ndarray, params: RegionParams) -> tuple[Box, np.ndarray]:
    """The region's box in the crop and the soft mask inside it; the full mask is 0 outside the box.

    The mask is the grown, deformed, blurred region polygons times the opacity. Sizes scale with the
    mean width of the region's polygons (mouth, one eye), not with the crop, so the mask fits the
    face whatever share of the crop the face fills. Working in the box keeps the cost proportional
    to the region, not to the crop.
    """
    polygons = region_polygons(landmarks, params.region)
    width = _polygon_width(polygons)
    grow, sigma, warp = params.grow * width, max(params.edge_blur * width, 0.5), params.warp_amplitude * width
    box = _box(shape, polygons, grow + warp + 3.0 * sigma + 1.0)
    origin = np.array([box[1].start, box[0].start], dtype=np.float32)
    mask = np.zeros((box[0].stop - box[0].start, box[1].stop - box[1].start), dtype=np.float32)
    if mask.size == 0:
        return box, mask
    for polygon in polygons:
        cv2.fillConvexPoly(mask, np.rint(grow_polygon(polygon, grow) - origin).astype(np.int32), 1.0)
    if warp > 0:
        mask = _smooth_warp(mask, params.warp_seed, warp)
    mask = cv2.GaussianBlur(mask, (0, 0), sigma)
    mask[mask < MASK_FLOOR] = 0.0
    return box, np.clip(mask * params.blend_ratio, 0.0, 1.0)


def region_mask(shape: tuple[int, int], landmarks: np.ndarray, params: RegionParams) -> np.ndarray:
    """Soft (H, W) float32 mask in [0, 1] of one frame's region (see :func:`region_mask_in_box`)."""
    box, local = region_mask_in_box(shape, landmarks, params)
    mask = np.zeros(shape, dtype=np.float32)
    mask[box] = local
    return mask


def low_resolution_source(image: np.ndarray, params: RegionParams) -> np.ndarray:
    """``image`` down-scaled by ``params.factor``, restored, offset and colour-shifted (uint8 RGB)."""
    height, width = image.shape[:2]
    small_size = (max(round(width / params.factor), 1), max(round(height / params.factor), 1))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    source = cv2.resize(small, (width, height), interpolation=params.upsample)
    if params.offset_px != (0.0, 0.0):
        matrix = np.array([[1.0, 0.0, params.offset_px[0]], [0.0, 1.0, params.offset_px[1]]])
        source = cv2.warpAffine(source, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if params.gain != 1.0 or any(params.color_shift):
        shifted = source.astype(np.float32) * params.gain + np.asarray(params.color_shift, dtype=np.float32)
        source = np.clip(np.rint(shifted), 0, 255).astype(np.uint8)
    return source


def region_blend(image: np.ndarray, landmarks: np.ndarray, params: RegionParams) -> tuple[np.ndarray, np.ndarray]:
    """One crop with its region replaced by a low-resolution copy of itself, and the (H, W) mask.

    The source is the region's box down-scaled and restored, as a generator's output patch is.
    """
    box, local = region_mask_in_box(image.shape[:2], landmarks, params)
    fake = image.copy()
    mask = np.zeros(image.shape[:2], dtype=np.float32)
    if local.size:
        patch = image[box]
        fake[box] = blend(patch, low_resolution_source(patch, params), local)
        mask[box] = local
    return fake, mask


def _region_blend_window(
    crops: np.ndarray, landmarks: np.ndarray, params: RegionParams
) -> tuple[np.ndarray, np.ndarray]:
    pairs = [region_blend(image, points, params) for image, points in zip(crops, landmarks, strict=True)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def mouth_blend_window(crops: np.ndarray, landmarks: np.ndarray, params: RegionParams) -> tuple[np.ndarray, np.ndarray]:
    """Lip-sync-style fake of a (T, H, W, 3) window: a low-resolution mouth or lower face.

    Returns the fake (T, H, W, 3) uint8 and the masks (T, H, W) float32; pixels where the mask is 0
    equal the real ones.
    """
    if params.region not in MOUTH_REGIONS:
        raise ValueError(f"mouth blends take a region in {MOUTH_REGIONS}, not {params.region!r}")
    return _region_blend_window(crops, landmarks, params)


def eyes_blend_window(crops: np.ndarray, landmarks: np.ndarray, params: RegionParams) -> tuple[np.ndarray, np.ndarray]:
    """Eye-edit-style fake of a (T, H, W, 3) window: low-resolution eyes, optionally with the brows.

    Returns the fake (T, H, W, 3) uint8 and the masks (T, H, W) float32; pixels where the mask is 0
    equal the real ones.
    """
    if params.region not in EYE_REGIONS:
        raise ValueError(f"eye blends take a region in {EYE_REGIONS}, not {params.region!r}")
    return _region_blend_window(crops, landmarks, params)
