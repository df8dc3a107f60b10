"""The gallery's store: what the gallery asks of a database, and how one is chosen from a URL.

:class:`GalleryStore` is the contract; :mod:`service.gallery.backends` implements it twice on
the same SQL (:mod:`service.gallery.sql_store`): SQLite (one file, the default) and PostgreSQL
(shared by replicas). :func:`open_store` picks one from a URL:

    sqlite:///gallery.sqlite          a file, relative to the working folder
    sqlite:////var/lib/songid/g.db    an absolute path (four slashes)
    postgresql://user:pw@host/db      PostgreSQL (the ``postgres`` extra)

Every write is one transaction (an enrolment is all there or not at all), bumps the change
counter (:meth:`GalleryStore.version`) and returns a :class:`Change` read in that transaction.
A database that cannot be used (down, unreadable, read-only, not a database) raises
:class:`service.domain_errors.UnavailableError` naming it; a store reconnects by itself at its
next call, so it recovers when the database does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from service.gallery.records import ArtistRecord, Change, EnrolledSong

SQLITE_SCHEME = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class GalleryStore(Protocol):
    """Enrolled artists in one database; thread-safe.

    Raises (every method): :class:`~service.domain_errors.UnavailableError` when the database
    cannot be used now.
    """

    @property
    def where(self) -> str:
        """The database, as errors and logs name it (no password)."""
        ...

    def close(self) -> None: ...

    @property
    def schema_version(self) -> int: ...

    def version(self) -> int:
        """The change counter: it grows with every enrolment, added song or deletion."""
        ...

    def create(self, artist_id: str, name: str, model: str, songs: Sequence[EnrolledSong]) -> Change:
        """Enrol a new artist from ``songs`` (at least one), all or nothing.

        Raises:
            ArtistExistsError: ``artist_id`` is enrolled already.
        """
        ...

    def add_songs(self, artist_id: str, model: str, songs: Sequence[EnrolledSong]) -> Change:
        """Add songs to an enrolled artist; a file already enrolled for it is skipped.

        Raises:
            ArtistNotFoundError: no such artist.
            ConflictError: the artist's embedding is another model's (re-embed it first).
        """
        ...

    def reembed(self, artist_id: str, model: str, songs: Sequence[EnrolledSong]) -> Change:
        """Replace every song of the artist by ``songs`` (the same files embedded by ``model``)."""
        ...

    def delete(self, artist_id: str) -> Change:
        """Raises :class:`ArtistNotFoundError` when there is no such artist."""
        ...

    def get(self, artist_id: str) -> ArtistRecord:
        """Raises :class:`ArtistNotFoundError` when there is no such artist."""
        ...

    def page(self, *, offset: int, limit: int) -> tuple[list[ArtistRecord], int]:
        """Artists by id, ``limit`` from ``offset``, and how many there are in all."""
        ...

    def for_model(self, model: str) -> list[ArtistRecord]:
        """Every artist whose embedding is ``model``'s (the others are stale)."""
        ...

    def centroids(self, model: str, *, dim: int) -> tuple[list[str], list[str], np.ndarray]:
        """Ids, names and mean embeddings ``(n, dim)`` float32 of ``model``'s artists, by id."""
        ...

    def song_hashes(self, artist_id: str) -> set[str]:
        """The SHA-256 of every file enrolled for the artist (empty when not enrolled)."""
        ...

    def stale_artists(self, model: str) -> list[tuple[str, list[str | None]]]:
        """Artists enrolled with another model than ``model``, each with its songs' references."""
        ...

    def stale(self, model: str) -> int:
        """How many artists hold another model's embedding (never compared with this one's)."""
        ...


def sqlite_url(path: Path) -> str:
    """The URL of an SQLite file (``sqlite:///`` then the path, absolute or relative)."""
    return SQLITE_SCHEME + str(path)


def check_url(url: str) -> str:
    """``url`` when it names a kind of store this service has; else ValueError naming its scheme."""
    if url.startswith(SQLITE_SCHEME) and len(url) > len(SQLITE_SCHEME):
        return url
    if url.startswith(POSTGRES_SCHEMES):
        return url
    scheme = url.split("://", 1)[0] if "://" in url else url[:20]
    raise ValueError(f"a gallery URL is sqlite:///<path> or postgresql://..., got one starting {scheme!r}")


def open_store(url: str) -> GalleryStore:
    """The store at ``url`` (see the module docstring). Never connects: the first call does.

    Raises:
        ValueError: not a URL of a kind of store this service has.
        ModuleNotFoundError: a PostgreSQL URL without the ``postgres`` extra installed.
    """
    from service.gallery.backends import PostgresStore, SqliteStore

    check_url(url)
    if url.startswith(SQLITE_SCHEME):
        return SqliteStore(Path(url[len(SQLITE_SCHEME) :]))
    return PostgresStore(url)
