from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from training.backbones.layers import FusedBatchNormalization


def _pair(momentum: float = 0.9) -> tuple[keras.layers.BatchNormalization, FusedBatchNormalization]:
    plain = keras.layers.BatchNormalization(momentum=momentum)
    fused = FusedBatchNormalization(momentum=momentum)
    shape = (None, 6, 5, 3)
    plain.build(shape)
    fused.build(shape)
    for layer in (plain, fused):  # the same non-trivial affine parameters
        layer.gamma.assign(np.array([0.5, 1.5, 2.0], dtype="float32"))
        layer.beta.assign(np.array([0.1, -0.2, 0.3], dtype="float32"))
    return plain, fused


def test_training_step_matches_keras_batch_normalization() -> None:
    plain, fused = _pair()
    x = np.random.default_rng(0).normal(3.0, 2.0, (8, 6, 5, 3)).astype("float32")
    np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-5)
    np.testing.assert_allclose(fused.moving_mean.numpy(), plain.moving_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(fused.moving_variance.numpy(), plain.moving_variance.numpy(), rtol=1e-5)
    assert not np.allclose(fused.moving_mean.numpy(), 0.0)  # the statistics did move


def test_inference_uses_the_running_statistics() -> None:
    plain, fused = _pair()
    x = np.random.default_rng(2).normal(1.0, 3.0, (4, 6, 5, 3)).astype("float32")
    for _ in range(3):
        plain(x, training=True)
        fused(x, training=True)
    np.testing.assert_allclose(fused(x, training=False), plain(x, training=False), atol=1e-5)


def test_gradients_match_keras_batch_normalization() -> None:
    import tensorflow as tf

    plain, fused = _pair()
    x = tf.constant(np.random.default_rng(3).normal(0.0, 1.0, (8, 6, 5, 3)).astype("float32"))
    grads = []
    for layer in (plain, fused):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(layer(x, training=True) ** 2 * tf.range(3, dtype=tf.float32))
        grads.append(tape.gradient(y, [x, layer.gamma.value, layer.beta.value]))
    for g_plain, g_fused in zip(*grads, strict=True):
        np.testing.assert_allclose(g_fused.numpy(), g_plain.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("options", [{"center": False}, {"scale": False}, {"synchronized": True}])
def test_what_the_fused_kernel_cannot_do_falls_back_to_keras(options: dict[str, bool]) -> None:
    plain = keras.layers.BatchNormalization(**options)
    fused = FusedBatchNormalization(**options)
    x = np.random.default_rng(4).normal(2.0, 1.5, (8, 6, 5, 3)).astype("float32")
    np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-5)
    np.testing.assert_allclose(fused.moving_variance.numpy(), plain.moving_variance.numpy(), rtol=1e-5)


@pytest.mark.parametrize("momentum", [0.9, 0.5])
def test_saved_model_loads_back_with_the_layer(tmp_path: Path, momentum: float) -> None:
    inputs = keras.Input((6, 5, 3))
    model = keras.Model(inputs, FusedBatchNormalization(momentum=momentum, name="bn")(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    layer = loaded.get_layer("bn")
    assert isinstance(layer, FusedBatchNormalization) and layer.momentum == momentum
