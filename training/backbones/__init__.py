"""Backbones: the trunk of the network, from the ``mel`` input to the embedding every task head reads.

A backbone is chosen by name in :class:`training.config.TrainConfig` (``backbone``) and declares
what the rest of training needs of it: the layer whose output is the embedding (exported as the
model folder's ``embedding`` tensor) and its calibration step, if any (run before every
validation and on the kept weights). Adding a backbone is one module here and one entry in
:data:`BACKBONES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import keras
import numpy as np

from training.backbones.paper import PaperCNN

Calibration = Callable[[keras.Model, np.ndarray], None]  # (model, segments (n, 187, 96, 1)) -> in place


class Backbone(Protocol):
    """What training asks of a trunk."""

    @property
    def name(self) -> str: ...

    @property
    def embedding_layer(self) -> str:
        """The layer of a built model whose output is the embedding (``(N, width)``)."""
        ...

    @property
    def calibration(self) -> Calibration | None:
        """Inference-time statistics set from training segments, in place; ``None``: nothing to set."""
        ...

    def build(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        """The trunk's layers on ``inputs`` ``(N, 187, 96, 1)``; returns the embedding ``(N, width)``."""
        ...


BACKBONES: dict[str, Backbone] = {b.name: b for b in (PaperCNN(),)}


def get_backbone(name: str) -> Backbone:
    """The backbone called ``name``; raises ValueError naming the known ones."""
    try:
        return BACKBONES[name]
    except KeyError as e:
        raise ValueError(f"unknown backbone {name!r}; known: {sorted(BACKBONES)}") from e
