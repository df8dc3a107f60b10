"""Keras layers of the network that are faster forms of the standard ones (same math)."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="songid")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """``BatchNormalization`` whose training step is TensorFlow's fused kernel.

    Keras 3 normalises with separate element-wise ops (mean, squared difference, broadcast
    multiply...), whose forward and backward passes took a third of the training step's op time
    on CPU (``reports/perf.md``). ``FusedBatchNormV3`` does the same in one kernel each way.

    Same statistics and the same running-average update as the parent (the moving variance
    takes the biased batch variance, as Keras does); only the summation order, hence float
    rounding, differs. Inference, masking, other dtypes or axes, cross-replica
    (``synchronized``) statistics and layers without ``center`` or ``scale`` fall back to the
    parent, so an exported graph is the standard one.
    """

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        fusable = (
            training is True
            and self.trainable
            and self.center
            and self.scale
            and not self.synchronized
            and mask is None
            and self.axis in (-1, len(inputs.shape) - 1)
            and len(inputs.shape) == 4
            and inputs.dtype == tf.float32
        )
        if not fusable:
            return super().call(inputs, training=training, mask=mask)
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma, self.beta, epsilon=self.epsilon, data_format="NHWC", is_training=True
        )
        count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], tf.float32)
        variance = variance * (count - 1.0) / count  # the kernel returns the unbiased variance
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return outputs
