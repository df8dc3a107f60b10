"""The gallery the service serves: the model's trained artists and the store's enrolled ones.

Holds the current :class:`GalleryIndex`; :meth:`Gallery.index` re-reads the store when its change
counter moved, checked at most every ``poll_s`` seconds, so a replica sees an enrolment made on
another within ``poll_s`` plus the reload time (its own writes at once). Only artists enrolled with
the served model (``<name>:<version>``) are compared; the others are counted as stale.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from frontend.artifact import Artifact
from frontend.centroids import ArtistCentroids
from frontend.labels import Label
from service.decisions import Decision
from service.errors import ConflictError
from service.gallery.index import GalleryIndex
from service.gallery.records import ArtistRecord, EnrolledSong
from service.gallery.store import GalleryStore
from service.ranking import Match

logger = logging.getLogger(__name__)


def model_key(artifact: Artifact) -> str:
    return f"{artifact.name}:{artifact.version}"


def open_gallery(
    artifact: Artifact,
    *,
    sqlite_path: Path | None,
    database_url: str | None,
    poll_s: float,
    threshold: float | None,
) -> tuple[Gallery | None, str]:
    """The service's gallery, or None and why there is none."""
    if sqlite_path is None and not database_url:
        return None, "set SONGID_GALLERY_PATH (SQLite) or SONGID_DATABASE_URL (PostgreSQL)"
    if artifact.centroids is None:
        return None, f"the model {model_key(artifact)} has no centroids.json (songid centroids writes it)"
    store = GalleryStore.open(sqlite_path=sqlite_path or Path("gallery.sqlite"), database_url=database_url)
    return Gallery(store, artifact, poll_s=poll_s, threshold=threshold), ""


class Gallery:
    """Enrolment and ranking for one served model.

    Args:
        store: where enrolled artists live.
        artifact: the served model; it must have ``centroids.json`` (trained artists' means).
        poll_s: at most this often, the store's change counter is read.
        threshold: a cosine replacing the model folder's (the operator's setting), or None.
    """

    def __init__(
        self, store: GalleryStore, artifact: Artifact, *, poll_s: float = 2.0, threshold: float | None = None
    ) -> None:
        if artifact.centroids is None:
            raise ValueError(f"{artifact.root}: no centroids.json, so no artist can be enrolled")
        self.store = store
        self.model = model_key(artifact)
        self.centroids: ArtistCentroids = artifact.centroids
        self.threshold = threshold if threshold is not None else self.centroids.threshold
        self._trained = {label.id: label.name for label in artifact.labels["artist"]}
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._checked = 0.0
        self._index = self._load()

    def _load(self) -> GalleryIndex:
        started = time.perf_counter()
        version = self.store.version()
        enrolled = self.store.centroids(self.model, dim=self.centroids.dim)
        index = GalleryIndex(self.centroids, self._trained, enrolled, version=version)
        logger.info(
            "gallery loaded",
            extra={
                "fields": {"enrolled": index.n_enrolled, "seconds": round(time.perf_counter() - started, 3)}
            },
        )
        return index

    def index(self) -> GalleryIndex:
        """The current index (reloaded when another replica changed the store)."""
        now = time.monotonic()
        if now - self._checked < self._poll_s:
            return self._index
        with self._lock:
            if now - self._checked >= self._poll_s:
                self._checked = now
                if self.store.version() != self._index.version:
                    self._index = self._load()
        return self._index

    def _apply(self, artist_id: str, record: ArtistRecord | None) -> None:
        """Serve this replica's own write at once: the index changed by one artist when the store
        saw no other write since it was loaded, else reloaded."""
        with self._lock:
            version = self.store.version()
            if version == self._index.version + 1:
                mean = record.centroid if record is not None else None
                name = record.name if record is not None else ""
                self._index = self._index.changed(artist_id, name, mean, version=version)
            else:
                self._index = self._load()
            self._checked = time.monotonic()

    def is_trained(self, artist_id: str) -> bool:
        return artist_id in self._trained

    def enrol(self, artist_id: str, name: str, songs: Sequence[EnrolledSong]) -> ArtistRecord:
        """Raises ConflictError for a trained artist's id or one already enrolled."""
        if self.is_trained(artist_id):
            raise ConflictError(f"{artist_id!r} is an artist the model was trained on; choose another id")
        record = self.store.create(artist_id, name, self.model, songs)
        self._apply(artist_id, record)
        return record

    def add_songs(self, artist_id: str, songs: Sequence[EnrolledSong]) -> tuple[ArtistRecord, int]:
        result = self.store.add_songs(artist_id, self.model, songs)
        self._apply(artist_id, result[0])
        return result

    def delete(self, artist_id: str) -> None:
        self.store.delete(artist_id)
        self._apply(artist_id, None)

    def rank(self, embedding: np.ndarray, *, top_k: int) -> tuple[list[Match], Decision | None]:
        """The ``top_k`` artists most like the song (``embedding``: its mean embedding), and the
        artist decision on that scale: None while nobody is enrolled (the head's rule decides:
        it was measured the better open-set score for trained artists alone)."""
        index = self.index()
        matches = index.match(embedding, top_k=max(top_k, 1))
        if not index.n_enrolled:
            return matches, None
        best = matches[0]
        if best.similarity >= self.threshold:
            label = Label(best.artist_id, best.name)
            return matches, Decision("known", label, best.similarity, self.threshold, source=best.source)
        return matches, Decision("unknown", None, best.similarity, self.threshold)
