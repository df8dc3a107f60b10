"""The network: a backbone (:mod:`training.backbones`) with one softmax head per task."""

from __future__ import annotations

from pathlib import Path

import keras

from frontend.audio import INPUT_SHAPE
from frontend.signature import EMBEDDING, INPUT_NAME
from training.backbones import Backbone, get_backbone
from training.losses import PartialLabelLoss

PAPER = "paper"  # the default backbone: the paper's 5-block CNN


def build_model(
    n_classes: dict[str, int], *, backbone: str = PAPER, name: str = "artist_language_cnn"
) -> keras.Model:
    """The backbone's trunk, then one dense softmax head per task.

    Args:
        n_classes: classes per task, in output order, e.g. ``{"artist": 26, "language": 6}``;
            one task gives the single-task baseline with the same trunk.
        backbone: the trunk's name in :data:`training.backbones.BACKBONES`.

    Returns:
        a model from ``mel`` ``(N, 187, 96, 1)`` to one ``(N, n_classes)`` softmax per task,
        each output named after its task.
    """
    if not n_classes or any(n < 2 for n in n_classes.values()):
        raise ValueError(f"every task needs >= 2 classes, got {n_classes}")
    inputs = keras.Input(shape=INPUT_SHAPE, name=INPUT_NAME)
    x = get_backbone(backbone).build(inputs)
    outputs = {
        task: keras.layers.Dense(n, activation="softmax", name=task)(x) for task, n in n_classes.items()
    }
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


def with_embedding(model: keras.Model, tasks: list[str], backbone: Backbone) -> keras.Model:
    """The same network (same weights) also giving the backbone's embedding as ``embedding``.

    Training needs no such output; export adds it, so the model folder carries the embedding that
    every head reads (480 values a segment for the paper's trunk), for open-set scores and enrolment.
    """
    outputs = {task: model.get_layer(task).output for task in tasks}
    outputs[EMBEDDING] = model.get_layer(backbone.embedding_layer).output
    return keras.Model(inputs=model.inputs, outputs=outputs, name=model.name)


def load_model(path: Path | str) -> keras.Model:
    """A model saved by ``songid train``, with its custom layers and loss."""
    model = keras.saving.load_model(path, custom_objects={"PartialLabelLoss": PartialLabelLoss})
    if not isinstance(model, keras.Model):
        raise TypeError(f"{path}: holds a {type(model).__name__}, not a Keras model")
    return model
