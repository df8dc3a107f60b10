"""The gallery the service serves: the model's trained artists and the store's enrolled ones.

Holds the current :class:`GalleryIndex`; :meth:`Gallery.index` re-reads the store when its change
counter moved, checked at most every ``poll_s`` seconds, so a replica sees an enrolment made on
another within ``poll_s`` plus the reload time (its own writes at once). Only artists enrolled with
the served model (``<name>:<version>``) are compared; the others are counted as stale.

The gallery degrades instead of failing: while its store cannot be used (the database is down,
the file unreadable), songs are still ranked against the index loaded last (the trained artists
alone when the store was never read), :attr:`Gallery.state` says ``stale``, reads and writes
raise :class:`UnavailableError`, and the store is tried again at every poll (at most every
:data:`RETRY_S` seconds), so the gallery is ``current`` again within seconds of the database's
return. The routers call this class, never the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

import numpy as np

from frontend.artifact import Artifact
from frontend.centroids import ArtistCentroids
from frontend.labels import Label
from service.analysis import GalleryState
from service.decisions import Decision
from service.domain_errors import ConflictError, UnavailableError
from service.gallery.index import GalleryIndex
from service.gallery.records import ArtistRecord, Change, EnrolledSong
from service.gallery.store import GalleryStore, open_store
from service.metrics import Metrics
from service.ranking import Match

logger = logging.getLogger(__name__)

RETRY_S: Final = 2.0  # while the store is unavailable, it is tried again at most this often
T = TypeVar("T")


def model_key(artifact: Artifact) -> str:
    return f"{artifact.name}:{artifact.version}"


def open_gallery(
    artifact: Artifact,
    *,
    url: str | None,
    poll_s: float,
    threshold: float | None,
    metrics: Metrics | None = None,
) -> tuple[Gallery | None, str]:
    """The service's gallery on the store at ``url`` (:func:`open_store`), or None and why there is none.

    The store not answering is no reason: the gallery starts ``stale`` and keeps trying.

    Raises:
        ValueError: ``url`` is not a store's URL.
        ModuleNotFoundError: a PostgreSQL URL without the ``postgres`` extra.
    """
    if not url:
        return None, "set SONGID_DATABASE_URL (sqlite:///<file> or postgresql://...) or SONGID_GALLERY_PATH"
    if artifact.centroids is None or artifact.gallery_task is None:
        return None, f"the model {model_key(artifact)} has no centroids.json (songid centroids writes it)"
    store = open_store(url)
    return Gallery(store, artifact, poll_s=poll_s, threshold=threshold, metrics=metrics), ""


class Gallery:
    """Enrolment and ranking for one served model.

    Args:
        store: where enrolled artists live.
        artifact: the served model; it must have ``centroids.json`` (trained artists' means).
        poll_s: at most this often, the store's change counter is read.
        threshold: a cosine replacing the model folder's (the operator's setting), or None.
        metrics: where the store's unavailability is counted; None counts nothing.
    """

    def __init__(
        self,
        store: GalleryStore,
        artifact: Artifact,
        *,
        poll_s: float = 2.0,
        threshold: float | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        if artifact.centroids is None or artifact.gallery_task is None:
            raise ValueError(f"{artifact.root}: no centroids.json, so no artist can be enrolled")
        self.store = store
        self.model = model_key(artifact)
        self.task: str = artifact.gallery_task
        self.centroids: ArtistCentroids = artifact.centroids
        self.threshold = threshold if threshold is not None else self.centroids.threshold
        self._trained = {label.id: label.name for label in artifact.labels[self.task]}
        self._poll_s = poll_s
        self._metrics = metrics
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._problem: str | None = None  # why the store cannot be used now; None: it can
        self._index = GalleryIndex(self.centroids, self._trained, version=-1)  # trained artists only
        self._stale_artists = 0
        try:
            self._index = self._load()
        except UnavailableError as e:
            self._failed(e)

    @property
    def state(self) -> GalleryState:
        """``current``: the index is the store's as last polled; ``stale``: the store cannot be used
        now, and the index served is the one loaded last (may miss changes made since)."""
        return "stale" if self._problem is not None else "current"

    @property
    def problem(self) -> str | None:
        """Why the gallery is stale (names the database), or None."""
        return self._problem

    def close(self) -> None:
        self.store.close()

    # Store health ------------------------------------------------------------------------------

    def _failed(self, error: UnavailableError) -> None:
        """The index could not be checked or loaded: it is stale until it can."""
        if self._problem is None:
            logger.error("artist gallery unavailable", extra={"fields": {"error": error.message}})
        self._problem = error.message
        self._count()
        if self._metrics is not None:
            self._metrics.gallery_stale.set(1)

    def _count(self) -> None:
        if self._metrics is not None:
            self._metrics.gallery_unavailable.inc()

    def _recovered(self) -> None:
        if self._problem is not None:
            logger.warning("artist gallery available again", extra={"fields": {"store": self.store.where}})
        self._problem = None
        if self._metrics is not None:
            self._metrics.gallery_stale.set(0)

    def _use(self, call: Callable[[], T]) -> T:
        """``call()`` on the store; its unavailability is counted, then raised. The state is the
        index's: only a poll or a load that fails makes it stale (a read-only file refuses writes
        while its artists are current)."""
        try:
            return call()
        except UnavailableError:
            self._count()
            raise

    # The index ---------------------------------------------------------------------------------

    def _load(self) -> GalleryIndex:
        started = time.perf_counter()
        version = self.store.version()
        enrolled = self.store.centroids(self.model, dim=self.centroids.dim)
        self._stale_artists = self.store.stale(self.model)
        index = GalleryIndex(self.centroids, self._trained, enrolled, version=version)
        logger.info(
            "gallery loaded",
            extra={
                "fields": {"enrolled": index.n_enrolled, "seconds": round(time.perf_counter() - started, 3)}
            },
        )
        return index

    def index(self) -> GalleryIndex:
        """The current index (reloaded when another replica changed the store). Never raises and
        never waits for the store: while one thread polls it, the others take the index as it is."""
        interval = self._poll_s if self._problem is None else min(self._poll_s, RETRY_S)
        if time.monotonic() - self._checked < interval or not self._lock.acquire(blocking=False):
            return self._index
        try:
            self._checked = time.monotonic()
            if self.store.version() != self._index.version:
                self._index = self._load()
            self._recovered()
        except UnavailableError as e:
            self._failed(e)
        finally:
            self._lock.release()
        return self._index

    def _apply(self, artist_id: str, change: Change) -> None:
        """Serve this replica's own write at once: the index changed by one artist when the store
        saw no other write since it was loaded, else reloaded (later, if the store fails now)."""
        with self._lock:
            self._checked = time.monotonic()
            if change.version == self._index.version + 1:
                record = change.record
                mean = record.centroid if record is not None else None
                name = record.name if record is not None else ""
                self._index = self._index.changed(artist_id, name, mean, version=change.version)
            elif change.version > self._index.version:  # another write came between: read them all
                try:
                    self._index = self._load()
                except UnavailableError as e:
                    self._checked = 0.0  # the next index() tries again
                    self._failed(e)
                    return
        self._recovered()

    # Writes ------------------------------------------------------------------------------------

    def is_trained(self, artist_id: str) -> bool:
        return artist_id in self._trained

    def enrol(self, artist_id: str, name: str, songs: Sequence[EnrolledSong]) -> ArtistRecord:
        """The artist as this enrolment wrote it.

        Raises:
            ConflictError: a trained artist's id, or one already enrolled.
            UnavailableError: the store cannot be used now (nothing written).
        """
        if self.is_trained(artist_id):
            raise ConflictError(f"{artist_id!r} is an artist the model was trained on; choose another id")
        change = self._use(lambda: self.store.create(artist_id, name, self.model, songs))
        self._apply(artist_id, change)
        assert change.record is not None
        return change.record

    def add_songs(self, artist_id: str, songs: Sequence[EnrolledSong]) -> tuple[ArtistRecord, int]:
        """The artist after the change, and how many songs were new."""
        change = self._use(lambda: self.store.add_songs(artist_id, self.model, songs))
        self._apply(artist_id, change)
        assert change.record is not None
        return change.record, change.added

    def reembed(self, artist_id: str, songs: Sequence[EnrolledSong]) -> ArtistRecord:
        """Replace the artist's songs by the same files embedded with the served model."""
        change = self._use(lambda: self.store.reembed(artist_id, self.model, songs))
        self._apply(artist_id, change)
        assert change.record is not None
        return change.record

    def delete(self, artist_id: str) -> None:
        change = self._use(lambda: self.store.delete(artist_id))
        self._apply(artist_id, change)

    # Reads -------------------------------------------------------------------------------------

    def get(self, artist_id: str) -> ArtistRecord:
        return self._use(lambda: self.store.get(artist_id))

    def page(self, *, offset: int, limit: int) -> tuple[list[ArtistRecord], int]:
        """Artists by id, ``limit`` from ``offset``, and how many there are in all."""
        return self._use(lambda: self.store.page(offset=offset, limit=limit))

    def stale(self, *, or_as_loaded: bool = False) -> int:
        """Artists enrolled with another model, read now from the store; ``or_as_loaded``: while
        the store cannot be used, as counted when the index was loaded (else UnavailableError)."""
        try:
            self._stale_artists = self._use(lambda: self.store.stale(self.model))
        except UnavailableError:
            if not or_as_loaded:
                raise
        return self._stale_artists

    def song_hashes(self, artist_id: str) -> set[str]:
        return self._use(lambda: self.store.song_hashes(artist_id))

    def stale_artists(self) -> list[tuple[str, list[str | None]]]:
        """Artists enrolled with another model, each with its songs' references."""
        return self._use(lambda: self.store.stale_artists(self.model))

    def rank(self, embedding: np.ndarray, *, top_k: int) -> tuple[list[Match], Decision | None]:
        """The ``top_k`` artists most like the song (``embedding``: its mean embedding), and the
        decision for :attr:`task` on that scale: None while nobody is enrolled (the head's rule
        decides: it was measured the better open-set score for trained artists alone)."""
        index = self.index()
        matches = index.match(embedding, top_k=max(top_k, 1))
        if not index.n_enrolled:
            return matches, None
        best = matches[0]
        if best.similarity >= self.threshold:
            label = Label(best.artist_id, best.name)
            return matches, Decision("known", label, best.similarity, self.threshold, source=best.source)
        return matches, Decision("unknown", None, best.similarity, self.threshold)
