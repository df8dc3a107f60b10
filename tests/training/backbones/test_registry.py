"""Backbones are chosen by name and declare their embedding layer and calibration step."""

from __future__ import annotations

import numpy as np
import pytest

from training.backbones import BACKBONES, get_backbone
from training.model import build_model, with_embedding


def test_an_unknown_backbone_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown backbone 'resnet'; known: \['paper'\]"):
        get_backbone("resnet")
    with pytest.raises(ValueError, match="unknown backbone"):
        build_model({"artist": 3}, backbone="resnet")


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_backbone_declares_its_embedding_and_feeds_any_number_of_heads(name: str) -> None:
    backbone = get_backbone(name)
    model = build_model({"artist": 4, "language": 3, "genre": 2}, backbone=name)
    with_embedding_model = with_embedding(model, ["artist", "language", "genre"], backbone)
    x = np.random.default_rng(0).random((2, 187, 96, 1), dtype=np.float32)
    out = with_embedding_model.predict_on_batch(x)
    assert {k: v.shape for k, v in out.items()} == {
        "artist": (2, 4),
        "language": (2, 3),
        "genre": (2, 2),
        "embedding": (2, model.get_layer(backbone.embedding_layer).output.shape[-1]),
    }


def test_the_paper_backbone_calibrates_its_batchnorm_statistics() -> None:
    backbone = get_backbone("paper")
    model = build_model({"artist": 3})
    assert backbone.calibration is not None
    before = model.get_layer("bn1").moving_mean.numpy().copy()
    backbone.calibration(model, np.ones((2, 187, 96, 1), np.float32))
    assert not np.array_equal(before, model.get_layer("bn1").moving_mean.numpy())
