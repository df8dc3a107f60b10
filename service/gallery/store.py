"""The gallery's store: one SQLite file by default, PostgreSQL when a database URL is set.

Both speak the same SQL through :class:`Dialect` (placeholders, the binary column type, how to
connect and lock), so one class and one test suite cover them. Every write is one transaction
(an enrolment is all there or not at all) and bumps ``gallery_state.version``: a replica polls
that number (:meth:`GalleryStore.version`) and reloads its index when it changes. The schema is
versioned: ``dialects.MIGRATIONS`` are applied in order at open, each once (recorded in
``schema_migrations``; on PostgreSQL under an advisory lock, so replicas starting together do
not race).

Thread-safe: one connection, used under a lock (writes are rare and short; reads are a poll and
a load at start-up or after a change).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from service.errors import ConflictError
from service.gallery.dialects import MIGRATIONS, Dialect, postgres_dialect, sqlite_dialect
from service.gallery.records import (
    ArtistExistsError,
    ArtistNotFoundError,
    ArtistRecord,
    EnrolledSong,
    from_blob,
    to_blob,
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class GalleryStore:
    """Enrolled artists in one database (see the module docstring)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._lock = threading.Lock()
        self._conn = dialect.connect()
        self._migrate()

    @classmethod
    def open(cls, *, sqlite_path: Path, database_url: str | None = None) -> GalleryStore:
        """PostgreSQL at ``database_url`` when given, else the SQLite file ``sqlite_path``."""
        return cls(postgres_dialect(database_url) if database_url else sqlite_dialect(sqlite_path))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN" if self.dialect.name == "postgresql" else "BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _sql(self, text: str) -> str:
        return text.replace("?", self.dialect.placeholder)

    def _migrate(self) -> None:
        with self._transaction() as cur:
            if self.dialect.lock_migrations:
                cur.execute(self.dialect.lock_migrations)
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
            )
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            current = int(cur.fetchone()[0])
            if current > len(MIGRATIONS):
                raise RuntimeError(
                    f"the gallery's schema is version {current}, newer than this service knows "
                    f"({len(MIGRATIONS)}); upgrade the service"
                )
            for version, statements in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in statements:
                    cur.execute(statement.format(blob=self.dialect.blob))
                cur.execute(self._sql("INSERT INTO schema_migrations VALUES (?, ?)"), (version, _now()))

    @property
    def schema_version(self) -> int:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("SELECT MAX(version) FROM schema_migrations")
            return int(cur.fetchone()[0])

    def version(self) -> int:
        """The change counter: it grows with every enrolment, added song or deletion."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("SELECT version FROM gallery_state WHERE id = 1")
            return int(cur.fetchone()[0])

    def create(self, artist_id: str, name: str, model: str, songs: Sequence[EnrolledSong]) -> ArtistRecord:
        """Enrol a new artist from ``songs`` (at least one), all or nothing.

        Raises:
            ArtistExistsError: ``artist_id`` is enrolled already.
        """
        if not songs:
            raise ValueError("an enrolment needs at least one song")
        now = _now()
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT 1 FROM artists WHERE artist_id = ?"), (artist_id,))
            if cur.fetchone() is not None:
                raise ArtistExistsError(artist_id)
            zero = to_blob(songs[0].embedding * 0.0)
            cur.execute(
                self._sql("INSERT INTO artists VALUES (?, ?, ?, 0, ?, ?, ?)"),
                (artist_id, name, model, zero, now, now),
            )
            self._insert_songs(cur, artist_id, model, songs, now)
        return self.get(artist_id)

    def add_songs(
        self, artist_id: str, model: str, songs: Sequence[EnrolledSong]
    ) -> tuple[ArtistRecord, int]:
        """Add songs to an enrolled artist; a file already enrolled for it is skipped.

        Returns:
            the artist after the change, and how many songs were new.

        Raises:
            ArtistNotFoundError: no such artist.
            ConflictError: the artist's embedding is another model's (re-embed it first).
        """
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT model FROM artists WHERE artist_id = ?"), (artist_id,))
            row = cur.fetchone()
            if row is None:
                raise ArtistNotFoundError(artist_id)
            if row[0] != model:
                raise ConflictError(
                    f"artist {artist_id!r} is enrolled with model {row[0]}, not {model}: re-embed it "
                    "(songid-enrol --reembed) or enrol it again"
                )
            added = self._insert_songs(cur, artist_id, model, songs, _now())
        return self.get(artist_id), added

    def _insert_songs(
        self, cur: Any, artist_id: str, model: str, songs: Sequence[EnrolledSong], now: str
    ) -> int:
        cur.execute(self._sql("SELECT embedding_sum, n_songs FROM artists WHERE artist_id = ?"), (artist_id,))
        blob, count = cur.fetchone()
        total = from_blob(bytes(blob))
        added = 0
        for song in songs:
            cur.execute(
                self._sql("INSERT INTO songs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
                (artist_id, song.sha256, model, to_blob(song.embedding), song.reference, now),
            )
            if cur.rowcount == 1:
                total = total + song.embedding
                added += 1
        cur.execute(
            self._sql("UPDATE artists SET n_songs = ?, embedding_sum = ?, updated = ? WHERE artist_id = ?"),
            (count + added, to_blob(total), now, artist_id),
        )
        cur.execute("UPDATE gallery_state SET version = version + 1 WHERE id = 1")
        return added

    def delete(self, artist_id: str) -> None:
        """Raises :class:`ArtistNotFoundError` when there is no such artist."""
        with self._transaction() as cur:
            cur.execute(self._sql("DELETE FROM songs WHERE artist_id = ?"), (artist_id,))
            cur.execute(self._sql("DELETE FROM artists WHERE artist_id = ?"), (artist_id,))
            if cur.rowcount != 1:
                raise ArtistNotFoundError(artist_id)
            cur.execute("UPDATE gallery_state SET version = version + 1 WHERE id = 1")

    _COLUMNS = "artist_id, name, model, n_songs, embedding_sum, created, updated"

    @staticmethod
    def _record(row: Sequence[Any]) -> ArtistRecord:
        artist_id, name, model, n_songs, blob, created, updated = row
        return ArtistRecord(
            artist_id,
            name,
            model,
            int(n_songs),
            from_blob(bytes(blob)),
            datetime.fromisoformat(created),
            datetime.fromisoformat(updated),
        )

    def get(self, artist_id: str) -> ArtistRecord:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(self._sql(f"SELECT {self._COLUMNS} FROM artists WHERE artist_id = ?"), (artist_id,))
            row = cur.fetchone()
        if row is None:
            raise ArtistNotFoundError(artist_id)
        return self._record(row)

    def page(self, *, offset: int, limit: int) -> tuple[list[ArtistRecord], int]:
        """Artists by id, ``limit`` from ``offset``, and how many there are in all."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("SELECT COUNT(*) FROM artists")
            total = int(cur.fetchone()[0])
            cur.execute(
                self._sql(f"SELECT {self._COLUMNS} FROM artists ORDER BY artist_id LIMIT ? OFFSET ?"),
                (limit, offset),
            )
            rows = cur.fetchall()
        return [self._record(r) for r in rows], total

    def for_model(self, model: str) -> list[ArtistRecord]:
        """Every artist whose embedding is ``model``'s (the others are stale)."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(
                self._sql(f"SELECT {self._COLUMNS} FROM artists WHERE model = ? ORDER BY artist_id"), (model,)
            )
            rows = cur.fetchall()
        return [self._record(r) for r in rows]

    def centroids(self, model: str, *, dim: int) -> tuple[list[str], list[str], np.ndarray]:
        """Ids, names and mean embeddings ``(n, dim)`` float32 of ``model``'s artists, by id;
        streamed into one array (no record per artist), so 100,000 artists load in seconds."""
        ids: list[str] = []
        names: list[str] = []
        chunks: list[np.ndarray] = []
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(
                self._sql(
                    "SELECT artist_id, name, n_songs, embedding_sum FROM artists "
                    "WHERE model = ? ORDER BY artist_id"
                ),
                (model,),
            )
            while rows := cur.fetchmany(4096):
                block = np.empty((len(rows), dim), dtype=np.float32)
                for k, (artist_id, name, n_songs, blob) in enumerate(rows):
                    ids.append(artist_id)
                    names.append(name)
                    block[k] = from_blob(bytes(blob)) / max(int(n_songs), 1)
                chunks.append(block)
        return ids, names, np.concatenate(chunks) if chunks else np.empty((0, dim), dtype=np.float32)

    def song_hashes(self, artist_id: str) -> set[str]:
        """The SHA-256 of every file enrolled for the artist (empty when not enrolled)."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(self._sql("SELECT sha256 FROM songs WHERE artist_id = ?"), (artist_id,))
            return {row[0] for row in cur.fetchall()}

    def stale_artists(self, model: str) -> list[tuple[str, list[str | None]]]:
        """Artists enrolled with another model than ``model``, each with its songs' references."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(
                self._sql(
                    "SELECT a.artist_id, s.reference FROM artists a "
                    "JOIN songs s ON s.artist_id = a.artist_id WHERE a.model <> ? ORDER BY a.artist_id"
                ),
                (model,),
            )
            rows = cur.fetchall()
        out: dict[str, list[str | None]] = {}
        for artist_id, reference in rows:
            out.setdefault(artist_id, []).append(reference)
        return list(out.items())

    def reembed(self, artist_id: str, model: str, songs: Sequence[EnrolledSong]) -> ArtistRecord:
        """Replace every song of the artist by ``songs`` (the same files embedded by ``model``), at once."""
        if not songs:
            raise ValueError("re-embedding needs at least one song")
        now = _now()
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT 1 FROM artists WHERE artist_id = ?"), (artist_id,))
            if cur.fetchone() is None:
                raise ArtistNotFoundError(artist_id)
            cur.execute(self._sql("DELETE FROM songs WHERE artist_id = ?"), (artist_id,))
            cur.execute(
                self._sql("UPDATE artists SET model = ?, n_songs = 0, embedding_sum = ? WHERE artist_id = ?"),
                (model, to_blob(songs[0].embedding * 0.0), artist_id),
            )
            self._insert_songs(cur, artist_id, model, songs, now)
        return self.get(artist_id)

    def stale(self, model: str) -> int:
        """How many artists hold another model's embedding (never compared with this one's)."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(self._sql("SELECT COUNT(*) FROM artists WHERE model <> ?"), (model,))
            return int(cur.fetchone()[0])
