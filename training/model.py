"""The paper's network: a 5-block CNN trunk with one softmax head per task."""

from __future__ import annotations

from pathlib import Path

import keras

from frontend.audio import INPUT_SHAPE
from frontend.signature import EMBEDDING, INPUT_NAME
from training.layers import FusedBatchNormalization
from training.losses import PartialLabelLoss

TRUNK_CHANNELS = (32, 64, 128, 64, 32)  # Singh & Biswas, Fig. 2
DROPOUT = 0.25
# Running-statistics update rate of BatchNorm (not part of the paper). Keras' 0.99 needs
# thousands of steps to forget its initial statistics; with ~75 steps per epoch on the bundled
# data, inference-mode predictions collapsed to one class for the first epochs while the same
# weights in training mode reached 49 % artist accuracy on validation. 0.9 forgets in ~50 steps.
BN_MOMENTUM = 0.9
TRUNK_OUTPUT = "flatten"  # the trunk's last layer: its output is the shared embedding of every head


def build_model(n_classes: dict[str, int], *, name: str = "artist_language_cnn") -> keras.Model:
    """Five [Conv2D 3x3 same + ReLU -> BatchNorm -> MaxPool 2x2 -> Dropout] blocks, Flatten, heads.

    Args:
        n_classes: classes per task, in output order, e.g. ``{"artist": 26, "language": 6}``;
            one task gives the single-task baseline with the same trunk.

    Returns:
        a model from ``mel`` ``(N, 187, 96, 1)`` to one ``(N, n_classes)`` softmax per task,
        each output named after its task.
    """
    if not n_classes or any(n < 2 for n in n_classes.values()):
        raise ValueError(f"every task needs >= 2 classes, got {n_classes}")
    inputs = keras.Input(shape=INPUT_SHAPE, name=INPUT_NAME)
    x = inputs
    for i, channels in enumerate(TRUNK_CHANNELS, start=1):
        x = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = FusedBatchNormalization(momentum=BN_MOMENTUM, name=f"bn{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
        x = keras.layers.Dropout(DROPOUT, name=f"dropout{i}")(x)
    x = keras.layers.Flatten(name=TRUNK_OUTPUT)(x)
    outputs = {
        task: keras.layers.Dense(n, activation="softmax", name=task)(x) for task, n in n_classes.items()
    }
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


def with_embedding(model: keras.Model, tasks: list[str]) -> keras.Model:
    """The same network (same weights) also giving the trunk's flattened features as ``embedding``.

    Training needs no such output; export adds it, so the model folder carries the embedding that
    every head reads (480 values a segment for the paper's input), for open-set scores and enrolment.
    """
    outputs = {task: model.get_layer(task).output for task in tasks}
    outputs[EMBEDDING] = model.get_layer(TRUNK_OUTPUT).output
    return keras.Model(inputs=model.inputs, outputs=outputs, name=model.name)


def load_model(path: Path | str) -> keras.Model:
    """A model saved by ``songid train``, with its custom layers and loss."""
    model = keras.saving.load_model(path, custom_objects={"PartialLabelLoss": PartialLabelLoss})
    if not isinstance(model, keras.Model):
        raise TypeError(f"{path}: holds a {type(model).__name__}, not a Keras model")
    return model
