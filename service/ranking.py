"""Song-level probabilities from segment ones, the ranked labels of an answer, and the ranked
artists of a gallery (:mod:`service.gallery`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from frontend.labels import Label


def song_probabilities(segment_probs: np.ndarray) -> np.ndarray:
    """Song-level distribution: the mean of the segment distributions, renormalised to sum to 1.

    Args:
        segment_probs: ``(n_segments, n_labels)`` probabilities.

    Returns:
        ``(n_labels,)`` float64 summing to 1 (uniform when the mean is not a distribution).
    """
    mean = np.asarray(segment_probs, dtype=np.float64).mean(axis=0)
    total = mean.sum()
    if not np.isfinite(total) or total <= 0:
        return np.full(mean.shape, 1.0 / mean.shape[0])
    return mean / total


@dataclass(frozen=True)
class Scored:
    """One label and its probability in [0, 1]."""

    label: Label
    probability: float


def ranked(probabilities: np.ndarray, labels: list[Label], top_k: int) -> list[Scored]:
    """The ``top_k`` labels by probability, highest first (ties keep label order)."""
    order = np.argsort(-probabilities, kind="stable")[:top_k]
    return [Scored(labels[i], min(max(float(probabilities[i]), 0.0), 1.0)) for i in order]


Source = Literal["trained", "enrolled"]


@dataclass(frozen=True)
class Match:
    artist_id: str
    name: str
    source: Source
    similarity: float  # cosine in [-1, 1]
