"""Artist centroids of the trunk's embedding: how a song is compared with trained and enrolled
artists alike, kept apart from the network.

A model folder that exports an ``embedding`` may hold ``centroids.json``::

    {"centre": [...dim floats...], "threshold": 0.31, "calibration": {...as measured...},
     "artists": [{"id": "Muldjord", "songs": 9, "mean": [...dim floats...]}, ...]}

``centre`` is the mean song embedding of the training songs; ``mean`` each trained artist's mean
song embedding. A song ``x`` and an artist with mean ``m`` are compared by the cosine of
``x - centre`` and ``m - centre`` (:func:`unit_rows`). An enrolled artist's mean is that of its
enrolment songs, so trained and enrolled artists are ranked on one scale, and ``threshold`` (the
best cosine a song needs to be called a known artist) holds for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

CENTROIDS_FILE: Final = "centroids.json"


class CentroidsError(ValueError):
    """A ``centroids.json`` that does not follow the schema or does not fit the model."""


@dataclass(frozen=True)
class ArtistCentroids:
    centre: np.ndarray  # (dim,)
    ids: list[str]  # trained artists, in the artist head's order
    means: np.ndarray  # (n_artists, dim)
    songs: list[int]  # training songs behind each mean
    threshold: float  # cosine; known at or above
    calibration: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.centre.shape[0])

    def document(self) -> dict[str, Any]:
        return {
            "centre": [round(float(v), 6) for v in self.centre],
            "threshold": self.threshold,
            "calibration": self.calibration,
            "artists": [
                {"id": i, "songs": n, "mean": [round(float(v), 6) for v in m]}
                for i, n, m in zip(self.ids, self.songs, self.means, strict=True)
            ],
        }


def unit_rows(vectors: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """``vectors - centre`` scaled to unit length, row by row (a zero row stays zero).

    Args:
        vectors: ``(n, dim)`` or ``(dim,)`` embeddings.
        centre: ``(dim,)``.
    """
    shifted = np.asarray(vectors, dtype=np.float64) - centre
    norms = np.linalg.norm(shifted, axis=-1, keepdims=True)
    return np.divide(shifted, norms, out=np.zeros_like(shifted), where=norms > 0)


def _vector(value: Any, dim: int | None, where: str) -> np.ndarray:
    if not isinstance(value, list) or not value or (dim is not None and len(value) != dim):
        raise CentroidsError(f"{where}: expected a list of {dim or 'some'} numbers")
    array = np.asarray(value, dtype=np.float64)
    if not np.isfinite(array).all():
        raise CentroidsError(f"{where}: holds a value that is not a finite number")
    return array


def parse_centroids(document: Any, *, artist_ids: list[str], dim: int, where: str) -> ArtistCentroids:
    """Read and check a ``centroids.json`` document against the model's artists and embedding width.

    Raises:
        CentroidsError: naming ``where`` and what is wrong.
    """
    if not isinstance(document, dict) or not isinstance(document.get("artists"), list):
        raise CentroidsError(f"{where}: expected an object with 'centre', 'threshold' and 'artists'")
    centre = _vector(document.get("centre"), dim, f"{where}: centre")
    threshold = document.get("threshold")
    if not isinstance(threshold, int | float) or not math.isfinite(threshold) or not -1 <= threshold <= 1:
        raise CentroidsError(f"{where}: threshold must be a cosine in [-1, 1], got {threshold!r}")
    rows = document["artists"]
    ids = [row.get("id") if isinstance(row, dict) else None for row in rows]
    if ids != artist_ids:
        raise CentroidsError(f"{where}: artists {ids[:3]}... are not the model's artist labels in order")
    means = np.stack([_vector(row.get("mean"), dim, f"{where}: {row['id']}") for row in rows])
    songs = [row.get("songs") for row in rows]
    if not all(isinstance(n, int) and n >= 1 for n in songs):
        raise CentroidsError(f"{where}: every artist needs 'songs' >= 1")
    calibration = document.get("calibration", {})
    if not isinstance(calibration, dict):
        raise CentroidsError(f"{where}: calibration must be an object")
    return ArtistCentroids(
        centre, list(artist_ids), means, [int(n) for n in songs], float(threshold), calibration
    )
