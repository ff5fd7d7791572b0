"""Fakes made from real face crops: self-blended images and landmark-driven face swaps.

Self-blending follows Shiohara & Yamasaki, "Detecting Deepfakes with Self-Blended Images"
(CVPR 2022): a face is blended onto a slightly shifted, rescaled, colour- and sharpness-jittered
copy of itself through a deformed, blurred landmark-hull mask, so the only cue left is the
blending boundary and the statistics mismatch inside it. The swap pastes another identity's face,
aligned by a similarity transform on the 68 landmarks and colour-matched, through the same kind
of mask.

Parameters are drawn once per window (:func:`sample_blend_params`) and then applied to every
frame with that frame's landmarks, so a synthesized window is temporally consistent, as a real
deepfake's would be. Outside the mask every output pixel equals the real input pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# dlib 68-point layout: 0-16 jaw, 17-26 brows, 27-35 nose, 36-47 eyes, 48-67 mouth.
JAW = slice(0, 17)
BROWS = slice(17, 27)
INNER_FACE = slice(17, 68)
HULL_KINDS = ("full", "extended", "inner")


@dataclass(frozen=True)
class BlendParams:
    """Random choices shared by all frames of one synthesized window."""

    hull: str  # "full" (68-point hull), "extended" (plus forehead), "inner" (brows, eyes, nose, mouth)
    morph_px: int  # >0 dilates, <0 erodes the hull, in pixels
    warp_seed: int  # seed of the smooth random displacement that deforms the mask
    warp_amplitude: float  # displacement amplitude as a fraction of the crop side
    mask_blur: float  # Gaussian sigma of the mask edge, fraction of the crop side
    blend_ratio: float  # opacity of the pasted face inside the mask
    shift: tuple[float, float]  # source translation, fraction of the crop side
    scale: float  # source rescale about the crop centre
    hsv_shift: tuple[float, float, float]  # hue (degrees), saturation and value offsets (0-255 scale)
    contrast: float  # source contrast factor
    sharpness: float  # >0 unsharp-mask amount, <0 Gaussian blur sigma, 0 none


def sample_blend_params(rng: np.random.Generator) -> BlendParams:
    """One window's worth of random blending choices."""
    sharpness = 0.0
    frequency = rng.random()
    if frequency < 0.35:
        sharpness = float(rng.uniform(0.3, 1.5))
    elif frequency < 0.7:
        sharpness = -float(rng.uniform(0.5, 1.6))
    return BlendParams(
        hull=str(rng.choice(HULL_KINDS, p=(0.5, 0.25, 0.25))),
        morph_px=int(rng.integers(-6, 5)),
        warp_seed=int(rng.integers(0, 2**31 - 1)),
        warp_amplitude=float(rng.uniform(0.0, 0.04)),
        mask_blur=float(rng.uniform(0.01, 0.05)),
        blend_ratio=float(rng.choice((0.5, 0.75, 1.0, 1.0, 1.0))),
        shift=(float(rng.uniform(-0.03, 0.03)), float(rng.uniform(-0.03, 0.03))),
        scale=float(rng.uniform(0.95, 1.05)),
        hsv_shift=(float(rng.uniform(-6, 6)), float(rng.uniform(-20, 20)), float(rng.uniform(-20, 20))),
        contrast=float(rng.uniform(0.85, 1.15)),
        sharpness=sharpness,
    )


def hull_points(landmarks: np.ndarray, hull: str) -> np.ndarray:
    """Polygon points for a mask kind, from 68 landmarks in crop pixels."""
    if hull == "inner":
        return landmarks[INNER_FACE]
    if hull == "extended":
        # Lift the brows by a third of the brow-to-chin distance to cover the forehead.
        brows = landmarks[BROWS]
        lift = (landmarks[8, 1] - brows[:, 1].mean()) / 3.0
        return np.concatenate([landmarks[JAW], brows - np.array([0.0, lift])])
    return landmarks


def face_mask(shape: tuple[int, int], landmarks: np.ndarray, params: BlendParams) -> np.ndarray:
    """Soft mask in [0, 1] of one frame: deformed, morphed, blurred landmark hull times blend ratio."""
    height, width = shape
    mask = np.zeros((height, width), dtype=np.float32)
    polygon = cv2.convexHull(hull_points(landmarks, params.hull).astype(np.float32)).astype(np.int32)
    cv2.fillConvexPoly(mask, polygon, 1.0)
    if params.warp_amplitude > 0:
        mask = _smooth_warp(mask, params.warp_seed, params.warp_amplitude * max(height, width))
    if params.morph_px:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(params.morph_px) + 1,) * 2)
        mask = cv2.dilate(mask, kernel) if params.morph_px > 0 else cv2.erode(mask, kernel)
    sigma = params.mask_blur * max(height, width)
    mask = cv2.GaussianBlur(mask, (0, 0), sigma)
    # Blurring spreads the edge outward; cut it back so the blend never reaches far from the face,
    # and zero the faint tail so pixels outside stay exactly real.
    mask[mask < 0.02] = 0.0
    return np.clip(mask * params.blend_ratio, 0.0, 1.0)


def _smooth_warp(mask: np.ndarray, seed: int, amplitude_px: float) -> np.ndarray:
    """Deforms ``mask`` with a low-frequency random displacement field (same field for a seed)."""
    height, width = mask.shape
    grid_rng = np.random.default_rng(seed)
    coarse = grid_rng.uniform(-1.0, 1.0, size=(2, 4, 4)).astype(np.float32) * amplitude_px
    dx = cv2.resize(coarse[0], (width, height), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(coarse[1], (width, height), interpolation=cv2.INTER_CUBIC)
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return cv2.remap(mask, xs + dx, ys + dy, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def jitter_source(image: np.ndarray, params: BlendParams) -> np.ndarray:
    """The pasted copy: shifted, rescaled, colour- and sharpness-jittered (uint8 RGB)."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), 0.0, params.scale)
    matrix[0, 2] += params.shift[0] * width
    matrix[1, 2] += params.shift[1] * height
    moved = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    hsv = cv2.cvtColor(moved, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + params.hsv_shift[0] / 2.0) % 180.0  # OpenCV hue is degrees / 2
    hsv[..., 1] = np.clip(hsv[..., 1] + params.hsv_shift[1], 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] + params.hsv_shift[2], 0, 255)
    colored = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    colored = (colored - colored.mean()) * params.contrast + colored.mean()
    if params.sharpness > 0:
        blurred = cv2.GaussianBlur(colored, (0, 0), 1.0)
        colored = colored + params.sharpness * (colored - blurred)
    elif params.sharpness < 0:
        colored = cv2.GaussianBlur(colored, (0, 0), -params.sharpness)
    return np.clip(colored, 0, 255).astype(np.uint8)


def blend(target: np.ndarray, source: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``source`` over ``target`` through ``mask``; pixels where the mask is 0 stay ``target``'s."""
    alpha = mask[..., None]
    mixed = source.astype(np.float32) * alpha + target.astype(np.float32) * (1.0 - alpha)
    out = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    outside = mask <= 0
    out[outside] = target[outside]
    return out


def self_blend(image: np.ndarray, landmarks: np.ndarray, params: BlendParams) -> tuple[np.ndarray, np.ndarray]:
    """A self-blended fake of one crop and its mask."""
    mask = face_mask(image.shape[:2], landmarks, params)
    return blend(image, jitter_source(image, params), mask), mask


def self_blend_window(images: np.ndarray, landmarks: np.ndarray, params: BlendParams) -> tuple[np.ndarray, np.ndarray]:
    """Self-blends every frame of a (T, H, W, 3) window with the same parameters."""
    pairs = [self_blend(image, points, params) for image, points in zip(images, landmarks, strict=True)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def align_donor(donor: np.ndarray, donor_landmarks: np.ndarray, target_landmarks: np.ndarray) -> np.ndarray:
    """Warps the donor crop so its landmarks fall on the target's (similarity transform)."""
    matrix, _ = cv2.estimateAffinePartial2D(donor_landmarks.astype(np.float32), target_landmarks.astype(np.float32))
    if matrix is None:
        matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    height, width = donor.shape[:2]
    return cv2.warpAffine(donor, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def match_colors(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Shifts ``source``'s LAB mean and spread inside ``mask`` to ``target``'s (Reinhard transfer)."""
    inside = mask > 0.5
    if inside.sum() < 16:
        return source
    source_lab = cv2.cvtColor(source, cv2.COLOR_RGB2LAB).astype(np.float32)
    target_lab = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    source_mean, source_std = source_lab[inside].mean(0), source_lab[inside].std(0) + 1e-3
    target_mean, target_std = target_lab[inside].mean(0), target_lab[inside].std(0) + 1e-3
    matched = (source_lab - source_mean) / source_std * target_std + target_mean
    return cv2.cvtColor(np.clip(matched, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def face_swap(
    target: np.ndarray,
    target_landmarks: np.ndarray,
    donor: np.ndarray,
    donor_landmarks: np.ndarray,
    params: BlendParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Pastes the donor's face onto the target crop; returns the fake and its mask."""
    aligned = align_donor(donor, donor_landmarks, target_landmarks)
    mask = face_mask(target.shape[:2], target_landmarks, params)
    source = match_colors(aligned, target, mask)
    if params.sharpness < 0:
        source = cv2.GaussianBlur(source, (0, 0), -params.sharpness)
    return blend(target, source, mask), mask


def face_swap_window(
    targets: np.ndarray,
    target_landmarks: np.ndarray,
    donors: np.ndarray,
    donor_landmarks: np.ndarray,
    params: BlendParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Swaps every frame of a window; donor frames are reused cyclically if the donor is shorter."""
    outputs, masks = [], []
    for index, (image, points) in enumerate(zip(targets, target_landmarks, strict=True)):
        donor_index = index % len(donors)
        fake, mask = face_swap(image, points, donors[donor_index], donor_landmarks[donor_index], params)
        outputs.append(fake)
        masks.append(mask)
    return np.stack(outputs), np.stack(masks)
