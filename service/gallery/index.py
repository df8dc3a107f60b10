"""Ranking a song against every artist, trained and enrolled, on one scale (frontend/centroids.py).

An immutable snapshot: the unit vectors of every artist's centred mean embedding, as one
``(n_artists, dim)`` float32 matrix; a song is scored by one matrix-vector product. Brute force
holds at the sizes measured (reports/perf.md: 100,000 enrolled artists); a new snapshot is built
when the store changes, never edited in place, so readers need no lock.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from frontend.centroids import ArtistCentroids, unit_rows
from service.ranking import Match, Source

Enrolled = tuple[list[str], list[str], np.ndarray | None]
TRAINED: Final = "trained"
ENROLLED: Final = "enrolled"


class GalleryIndex:
    """Trained artists (the model folder's centroids) and enrolled ones (the store's), ranked."""

    def __init__(
        self,
        centroids: ArtistCentroids,
        trained_names: dict[str, str],
        enrolled: Enrolled = ([], [], None),
        *,
        version: int = 0,
    ) -> None:
        """``enrolled``: ids, names and mean embeddings ``(n, dim)`` (``GalleryStore.centroids``)."""
        ids, names, means = enrolled
        self.centre = centroids.centre
        self.version = version
        self.ids = [*centroids.ids, *ids]
        self.names = [trained_names.get(i, i) for i in centroids.ids] + list(names)
        self.n_trained = len(centroids.ids)
        matrix = np.empty((len(self.ids), centroids.dim), dtype=np.float32)
        matrix[: self.n_trained] = unit_rows(centroids.means, self.centre)
        for start in range(0, len(ids), 8192):  # in blocks: no float64 copy of the whole gallery
            block = means[start : start + 8192]  # type: ignore[index]
            matrix[self.n_trained + start : self.n_trained + start + len(block)] = unit_rows(
                block, self.centre
            )
        self._matrix = matrix

    def changed(self, artist_id: str, name: str, mean: np.ndarray | None, *, version: int) -> GalleryIndex:
        """A new index with one enrolled artist added, replaced, or (``mean`` None) removed; the
        matrix is copied once (milliseconds), not rebuilt from the store (seconds at 100,000)."""
        new = object.__new__(GalleryIndex)
        new.centre, new.version, new.n_trained = self.centre, version, self.n_trained
        row = self.ids.index(artist_id) if artist_id in self.ids[self.n_trained :] else None
        if mean is None:
            keep = [i for i in range(len(self.ids)) if i != row]
            new.ids, new.names = [self.ids[i] for i in keep], [self.names[i] for i in keep]
            new._matrix = self._matrix[keep] if row is not None else self._matrix
            return new
        unit = unit_rows(mean, self.centre).astype(np.float32)
        if row is None:
            new.ids, new.names = [*self.ids, artist_id], [*self.names, name]
            new._matrix = np.concatenate([self._matrix, unit[np.newaxis]])
        else:
            new.ids, new.names = list(self.ids), list(self.names)
            new.names[row] = name
            new._matrix = self._matrix.copy()
            new._matrix[row] = unit
        return new

    @property
    def n_enrolled(self) -> int:
        return len(self.ids) - self.n_trained

    def source(self, row: int) -> Source:
        return TRAINED if row < self.n_trained else ENROLLED

    def similarities(self, embedding: np.ndarray) -> np.ndarray:
        """Cosine of the song to every artist, ``(n_artists,)``; ``embedding``: ``(dim,)``."""
        song = unit_rows(embedding, self.centre).astype(np.float32)
        return np.asarray(self._matrix @ song)

    def match(self, embedding: np.ndarray, *, top_k: int) -> list[Match]:
        """The ``top_k`` most similar artists, most similar first."""
        scores = self.similarities(embedding)
        k = min(top_k, scores.shape[0])
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [Match(self.ids[i], self.names[i], self.source(i), float(scores[i])) for i in top]
