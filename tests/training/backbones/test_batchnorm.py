"""The paper's trunk's calibration: BatchNorm statistics set to those seen at inference."""

from __future__ import annotations

from functools import partial

import keras
import numpy as np
import pytest

from frontend.audio import INPUT_SHAPE, SEGMENT_FRAMES
from training.backbones.batchnorm import CHUNK
from training.backbones.batchnorm import recalibrate_batch_norm as recalibrate_blocks
from training.backbones.paper import BLOCKS, CHANNELS
from training.model import build_model

recalibrate_batch_norm = partial(recalibrate_blocks, blocks=BLOCKS)


def _bn_inputs(model: keras.Model, x: np.ndarray, i: int) -> np.ndarray:
    """What ``bn{i}`` receives at inference (every layer in inference mode)."""
    probe = keras.Model(model.input, model.get_layer(f"bn{i}").input)
    return np.concatenate([np.asarray(probe(x[j : j + 16], training=False)) for j in range(0, len(x), 16)])


@pytest.fixture(scope="module")
def model() -> keras.Model:
    keras.utils.set_random_seed(0)
    m = build_model({"artist": 3})
    rng = np.random.default_rng(0)
    for i in range(1, len(CHANNELS) + 1):
        bn = m.get_layer(f"bn{i}")
        gamma = rng.uniform(0.5, 1.5, bn.gamma.shape) * rng.choice([-1.0, 1.0], bn.gamma.shape)
        bn.gamma.assign(gamma.astype(np.float32))  # negative scales too: min-pooled path
        bn.beta.assign(rng.normal(0.0, 0.3, bn.beta.shape).astype(np.float32))
        bn.moving_mean.assign(np.full(bn.moving_mean.shape, 5.0, np.float32))  # stale statistics
        bn.moving_variance.assign(np.full(bn.moving_variance.shape, 9.0, np.float32))
    return m


def test_statistics_are_those_each_batchnorm_sees_at_inference(model: keras.Model) -> None:
    x = np.random.default_rng(1).uniform(0.0, 3.0, (CHUNK + 6, *INPUT_SHAPE)).astype(np.float32)
    recalibrate_batch_norm(model, x)  # more than one chunk
    for i in range(1, len(CHANNELS) + 1):
        seen = _bn_inputs(model, x, i).reshape(-1, CHANNELS[i - 1]).astype(np.float64)
        bn = model.get_layer(f"bn{i}")
        np.testing.assert_allclose(bn.moving_mean.numpy(), seen.mean(axis=0), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(bn.moving_variance.numpy(), seen.var(axis=0), rtol=1e-3, atol=1e-6)


def test_weights_are_left_alone(model: keras.Model) -> None:
    before = [w.numpy().copy() for w in model.trainable_weights]
    recalibrate_batch_norm(model, np.ones((2, *INPUT_SHAPE), np.float32))
    for old, new in zip(before, model.trainable_weights, strict=True):
        np.testing.assert_array_equal(old, new.numpy())


@pytest.mark.parametrize("shape", [(0, *INPUT_SHAPE), (4, 100, 96, 1), (4, SEGMENT_FRAMES, 96)])
def test_bad_segments_are_refused_with_their_shape(model: keras.Model, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=str(shape).replace("(", r"\(").replace(")", r"\)")):
        recalibrate_batch_norm(model, np.zeros(shape, np.float32))
