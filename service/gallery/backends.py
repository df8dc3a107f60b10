"""The gallery store on SQLite (one file, the default) and on PostgreSQL (shared by replicas).

Both run :class:`~service.gallery.sql_store.SqlStore`'s SQL; each says how to connect and which
of its driver's errors mean the database cannot be used now (then
:class:`~service.domain_errors.UnavailableError`, naming the file or the URL without its
password). ``psycopg`` (the ``postgres`` extra) is imported only by :class:`PostgresStore`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from service.domain_errors import UnavailableError
from service.gallery.sql_store import SqlStore

SQLITE_BUSY_TIMEOUT_S: Final = 10.0  # a writer waits this long for another process's write
POSTGRES_CONNECT_TIMEOUT_S: Final = 3  # a database that does not answer is reported at once
# A server that vanished without closing its connections (a partition, a host gone): unacknowledged
# data or silent keep-alives end the connection within about this long, not TCP's many minutes.
POSTGRES_DEAD_PEER_MS: Final = 10_000
POSTGRES_RETRY_AFTER_S: Final = 5  # a restarted database is reconnected at the next call


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class SqliteStore(SqlStore):
    """The gallery in one SQLite file (created with its folder; WAL, so readers never block the writer)."""

    blob = "BLOB"
    placeholder = "?"
    begin = "BEGIN IMMEDIATE"

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_S
        )
        try:
            conn.execute(
                "PRAGMA journal_mode=WAL"
            )  # also the first read: a file that is no database fails here
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe with WAL
        except BaseException:
            conn.close()
            raise
        return conn

    def _unavailable(self, error: Exception) -> UnavailableError | None:
        if isinstance(error, OSError | sqlite3.OperationalError) or type(error) is sqlite3.DatabaseError:
            locked = "locked" in str(error)  # another process's write outlasted the busy timeout
            return UnavailableError(
                f"the gallery file {self.path} cannot be used: {_first_line(error)}",
                retry_after_s=1 if locked else None,
            )
        return None

    def _unique_violation(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (as errors and logs show it)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


class PostgresStore(SqlStore):
    """The gallery in a PostgreSQL database; a connection the server closed is opened again."""

    blob = "BYTEA"
    placeholder = "%s"
    begin = "BEGIN"
    lock_migrations = "SELECT pg_advisory_xact_lock(727274)"
    reconnect_at_begin = True

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ModuleNotFoundError as e:
            raise ModuleNotFoundError(
                "a PostgreSQL gallery needs the postgres extra (psycopg): pip install 'songid[postgres]'",
                name=e.name,
            ) from e
        super().__init__(redact(url))
        self._url = url
        self._psycopg = psycopg

    def _connect(self) -> Any:
        return self._psycopg.connect(
            self._url,
            autocommit=True,
            connect_timeout=POSTGRES_CONNECT_TIMEOUT_S,
            tcp_user_timeout=POSTGRES_DEAD_PEER_MS,
            keepalives=1,
            keepalives_idle=POSTGRES_DEAD_PEER_MS // 2000,
            keepalives_interval=1,
            keepalives_count=POSTGRES_DEAD_PEER_MS // 2000,
        )

    def _unavailable(self, error: Exception) -> UnavailableError | None:
        if isinstance(error, self._psycopg.OperationalError | self._psycopg.InterfaceError):
            return UnavailableError(
                f"the gallery's database {self.where} cannot be reached: {_first_line(error)}",
                retry_after_s=POSTGRES_RETRY_AFTER_S,
            )
        return None

    def _unique_violation(self, error: Exception) -> bool:
        return isinstance(error, self._psycopg.errors.UniqueViolation)
