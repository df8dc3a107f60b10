"""The gallery store's SQL, shared by its SQLite and PostgreSQL implementations.

A subclass (:mod:`service.gallery.backends`) says how to connect, its placeholder and binary
column type, and which of its driver's errors mean "the database cannot be used now"; this
class holds one connection, used under a lock (writes are rare and short; reads are a poll and
a load at start-up or after a change). The connection is opened, and the schema migrated, at the
first call, not at construction; a call that finds the database unusable drops the connection
and raises :class:`UnavailableError` naming the database, and the next call connects again, so
the store recovers by itself when the database does.

Every write is one transaction and returns a :class:`Change` read in that same transaction (an
enrolment is answered with what it wrote, even if another request deletes the artist at once).
The schema is versioned (:func:`service.gallery.dialects.migrate`, at each connection).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, ClassVar

import numpy as np

from service.domain_errors import ConflictError, UnavailableError
from service.gallery.dialects import migrate
from service.gallery.records import (
    ArtistExistsError,
    ArtistNotFoundError,
    ArtistRecord,
    Change,
    EnrolledSong,
    from_blob,
    now_text,
    record_from_row,
    to_blob,
)


class SqlStore:
    """Enrolled artists in one SQL database (see the module docstring); thread-safe."""

    placeholder: ClassVar[str] = "?"
    blob: ClassVar[str] = "BLOB"
    begin: ClassVar[str] = "BEGIN"
    lock_migrations: ClassVar[str | None] = None  # SQL run first in the migration transaction
    # A write that finds its connection dead at BEGIN (the server restarted) connects once more
    # instead of failing: nothing was sent, so nothing can be done twice.
    reconnect_at_begin: ClassVar[bool] = False

    def __init__(self, where: str) -> None:
        self._where = where
        self._lock = threading.Lock()
        self._conn: Any = None

    # What a database kind says -------------------------------------------------------------

    def _connect(self) -> Any:
        """A new DB-API connection in autocommit mode (transactions are begun explicitly)."""
        raise NotImplementedError

    def _unavailable(self, error: Exception) -> UnavailableError | None:
        """The :class:`UnavailableError` that ``error`` means, or None when it means something else."""
        raise NotImplementedError

    def _unique_violation(self, error: Exception) -> bool:
        """Whether ``error`` is a primary key already taken (two writers enrolling one id)."""
        raise NotImplementedError

    # Connection and transactions -----------------------------------------------------------

    @property
    def where(self) -> str:
        return self._where

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):  # a connection to a database that went away may not close cleanly
                conn.close()

    def _connection(self) -> Any:
        """The open connection (opened and migrated when there is none); call under the lock."""
        if self._conn is None:
            conn = self._connect()
            try:
                migrate(
                    conn.cursor(),
                    begin=self.begin,
                    blob=self.blob,
                    lock=self.lock_migrations,
                    sql=self._sql,
                    where=self.where,
                )
            except BaseException:
                with suppress(Exception):
                    conn.close()
                raise
            self._conn = conn
        return self._conn

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A cursor under the lock; the database's unavailability becomes :class:`UnavailableError`."""
        with self._lock:
            try:
                yield self._connection().cursor()
            except Exception as e:
                unavailable = self._unavailable(e)
                if unavailable is None:
                    raise
                self._drop()
                raise unavailable from e

    def _begin(self, cur: Any) -> Any:
        """``cur`` in a new transaction, or a new connection's cursor (see ``reconnect_at_begin``)."""
        try:
            cur.execute(self.begin)
            return cur
        except Exception as e:
            if not self.reconnect_at_begin or self._unavailable(e) is None:
                raise
        self._drop()
        cur = self._connection().cursor()
        cur.execute(self.begin)
        return cur

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._cursor() as first:
            cur = self._begin(first)
            try:
                yield cur
            except BaseException:
                with suppress(Exception):  # the connection may be gone; the original error is the news
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _sql(self, text: str) -> str:
        return text.replace("?", self.placeholder)

    # Reads -----------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        with self._cursor() as cur:
            cur.execute("SELECT MAX(version) FROM schema_migrations")
            return int(cur.fetchone()[0])

    def version(self) -> int:
        with self._cursor() as cur:
            return self._version(cur)

    @staticmethod
    def _version(cur: Any) -> int:
        cur.execute("SELECT version FROM gallery_state WHERE id = 1")
        return int(cur.fetchone()[0])

    _COLUMNS = "artist_id, name, model, n_songs, embedding_sum, created, updated"

    def _get(self, cur: Any, artist_id: str) -> ArtistRecord:
        cur.execute(self._sql(f"SELECT {self._COLUMNS} FROM artists WHERE artist_id = ?"), (artist_id,))
        row = cur.fetchone()
        if row is None:
            raise ArtistNotFoundError(artist_id)
        return record_from_row(row)

    def get(self, artist_id: str) -> ArtistRecord:
        with self._cursor() as cur:
            return self._get(cur, artist_id)

    def page(self, *, offset: int, limit: int) -> tuple[list[ArtistRecord], int]:
        with self._cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM artists")
            total = int(cur.fetchone()[0])
            cur.execute(
                self._sql(f"SELECT {self._COLUMNS} FROM artists ORDER BY artist_id LIMIT ? OFFSET ?"),
                (limit, offset),
            )
            rows = cur.fetchall()
        return [record_from_row(r) for r in rows], total

    def for_model(self, model: str) -> list[ArtistRecord]:
        with self._cursor() as cur:
            cur.execute(
                self._sql(f"SELECT {self._COLUMNS} FROM artists WHERE model = ? ORDER BY artist_id"), (model,)
            )
            rows = cur.fetchall()
        return [record_from_row(r) for r in rows]

    def centroids(self, model: str, *, dim: int) -> tuple[list[str], list[str], np.ndarray]:
        """Streamed into one array (no record per artist), so 100,000 artists load in seconds."""
        ids: list[str] = []
        names: list[str] = []
        chunks: list[np.ndarray] = []
        with self._cursor() as cur:
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
        with self._cursor() as cur:
            cur.execute(self._sql("SELECT sha256 FROM songs WHERE artist_id = ?"), (artist_id,))
            return {row[0] for row in cur.fetchall()}

    def stale_artists(self, model: str) -> list[tuple[str, list[str | None]]]:
        with self._cursor() as cur:
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

    def stale(self, model: str) -> int:
        with self._cursor() as cur:
            cur.execute(self._sql("SELECT COUNT(*) FROM artists WHERE model <> ?"), (model,))
            return int(cur.fetchone()[0])

    # Writes ----------------------------------------------------------------------------------

    def create(self, artist_id: str, name: str, model: str, songs: Sequence[EnrolledSong]) -> Change:
        if not songs:
            raise ValueError("an enrolment needs at least one song")
        now = now_text()
        try:
            with self._transaction() as cur:
                cur.execute(self._sql("SELECT 1 FROM artists WHERE artist_id = ?"), (artist_id,))
                if cur.fetchone() is not None:
                    raise ArtistExistsError(artist_id)
                zero = to_blob(songs[0].embedding * 0.0)
                cur.execute(
                    self._sql("INSERT INTO artists VALUES (?, ?, ?, 0, ?, ?, ?)"),
                    (artist_id, name, model, zero, now, now),
                )
                added = self._insert_songs(cur, artist_id, model, songs, now)
                return Change(self._get(cur, artist_id), added, self._version(cur))
        except Exception as e:
            if self._unique_violation(e):  # another replica enrolled the id between SELECT and INSERT
                raise ArtistExistsError(artist_id) from e
            raise

    def add_songs(self, artist_id: str, model: str, songs: Sequence[EnrolledSong]) -> Change:
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
            added = self._insert_songs(cur, artist_id, model, songs, now_text())
            return Change(self._get(cur, artist_id), added, self._version(cur))

    def reembed(self, artist_id: str, model: str, songs: Sequence[EnrolledSong]) -> Change:
        if not songs:
            raise ValueError("re-embedding needs at least one song")
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT 1 FROM artists WHERE artist_id = ?"), (artist_id,))
            if cur.fetchone() is None:
                raise ArtistNotFoundError(artist_id)
            cur.execute(self._sql("DELETE FROM songs WHERE artist_id = ?"), (artist_id,))
            cur.execute(
                self._sql("UPDATE artists SET model = ?, n_songs = 0, embedding_sum = ? WHERE artist_id = ?"),
                (model, to_blob(songs[0].embedding * 0.0), artist_id),
            )
            added = self._insert_songs(cur, artist_id, model, songs, now_text())
            return Change(self._get(cur, artist_id), added, self._version(cur))

    def delete(self, artist_id: str) -> Change:
        with self._transaction() as cur:
            cur.execute(self._sql("DELETE FROM songs WHERE artist_id = ?"), (artist_id,))
            cur.execute(self._sql("DELETE FROM artists WHERE artist_id = ?"), (artist_id,))
            if cur.rowcount != 1:
                raise ArtistNotFoundError(artist_id)
            cur.execute("UPDATE gallery_state SET version = version + 1 WHERE id = 1")
            return Change(None, 0, self._version(cur))

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
