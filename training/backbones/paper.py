"""The paper's trunk: five [Conv2D 3x3 same + ReLU -> BatchNorm -> MaxPool 2x2 -> Dropout] blocks, Flatten.

Singh & Biswas, Fig. 2. Its embedding is the flattened output of the last block: 480 values a
segment for the front end's ``(187, 96, 1)`` input. Its calibration step sets the BatchNorm
statistics measured at inference (:mod:`training.backbones.batchnorm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import keras

from training.backbones.batchnorm import recalibrate_batch_norm
from training.backbones.layers import FusedBatchNormalization

CHANNELS = (32, 64, 128, 64, 32)  # Singh & Biswas, Fig. 2
DROPOUT = 0.25
# Running-statistics update rate of BatchNorm (not part of the paper). Keras' 0.99 needs
# thousands of steps to forget its initial statistics; with ~75 steps per epoch on the bundled
# data, inference-mode predictions collapsed to one class for the first epochs while the same
# weights in training mode reached 49 % artist accuracy on validation. 0.9 forgets in ~50 steps.
BN_MOMENTUM = 0.9
OUTPUT = "flatten"  # the trunk's last layer: its output is the embedding every head reads
# each block's (conv, batchnorm, pool) layer names, input first: what calibration walks
BLOCKS = tuple((f"conv{i}", f"bn{i}", f"pool{i}") for i in range(1, len(CHANNELS) + 1))


@dataclass(frozen=True)
class PaperCNN:
    """The paper's trunk (:class:`training.backbones.Backbone`)."""

    name: str = "paper"
    embedding_layer: str = OUTPUT
    calibration = partial(recalibrate_batch_norm, blocks=BLOCKS)

    def build(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        x = inputs
        for (conv, bn, pool), channels in zip(BLOCKS, CHANNELS, strict=True):
            x = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name=conv)(x)
            x = FusedBatchNormalization(momentum=BN_MOMENTUM, name=bn)(x)
            x = keras.layers.MaxPooling2D(2, name=pool)(x)
            x = keras.layers.Dropout(DROPOUT, name=f"dropout{conv.removeprefix('conv')}")(x)
        return keras.layers.Flatten(name=OUTPUT)(x)
