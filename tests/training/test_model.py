from __future__ import annotations

import keras
import numpy as np

from training.model import build_model


def test_layer_structure_follows_the_paper() -> None:
    model = build_model({"artist": 10, "language": 3})
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[0] == "InputLayer"
    assert kinds[1:21] == ["Conv2D", "FusedBatchNormalization", "MaxPooling2D", "Dropout"] * 5
    assert all(isinstance(model.layers[i], keras.layers.BatchNormalization) for i in range(2, 21, 4))
    assert kinds[21] == "Flatten" and kinds[22:] == ["Dense", "Dense"]
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 64, 128, 64, 32]
    assert all(c.kernel_size == (3, 3) and c.padding == "same" for c in convs)
    assert all(d.rate == 0.25 for d in model.layers if isinstance(d, keras.layers.Dropout))
    # running statistics must settle within an epoch of a small catalog (see BN_MOMENTUM)
    assert all(b.momentum == 0.9 for b in model.layers if isinstance(b, keras.layers.BatchNormalization))
    # 187x96 pooled five times -> 5x3x32 = 480 features
    assert model.get_layer("flatten").output.shape[-1] == 480


def test_parameter_count() -> None:
    trunk = 320 + 18_496 + 73_856 + 73_792 + 18_464 + 4 * (32 + 64 + 128 + 64 + 32)
    assert build_model({"artist": 10, "language": 3}).count_params() == trunk + 481 * 10 + 481 * 3
    assert build_model({"artist": 10}).count_params() == trunk + 481 * 10  # baseline: same trunk


def test_heads_are_softmax_per_task() -> None:
    model = build_model({"artist": 4, "language": 2})
    out = model.predict_on_batch(np.random.default_rng(0).random((2, 187, 96, 1), dtype=np.float32))
    assert set(out) == {"artist", "language"}
    np.testing.assert_allclose(out["artist"].sum(axis=1), 1.0, rtol=1e-5)
