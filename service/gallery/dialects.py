"""What differs between the gallery's two databases, and the schema's migrations.

Both speak the same SQL (:mod:`service.gallery.store`); a :class:`Dialect` gives the placeholder,
the binary column type, how to connect, and the lock that keeps replicas starting together from
migrating twice. :data:`MIGRATIONS` are applied in order, each once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: artists, their songs, the change counter
        """CREATE TABLE artists (
            artist_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            model TEXT NOT NULL,
            n_songs INTEGER NOT NULL,
            embedding_sum {blob} NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL)""",
        "CREATE INDEX artists_model ON artists (model)",
        """CREATE TABLE songs (
            artist_id TEXT NOT NULL REFERENCES artists (artist_id) ON DELETE CASCADE,
            sha256 TEXT NOT NULL,
            model TEXT NOT NULL,
            embedding {blob} NOT NULL,
            reference TEXT,
            created TEXT NOT NULL,
            PRIMARY KEY (artist_id, sha256))""",
        "CREATE TABLE gallery_state (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)",
        "INSERT INTO gallery_state (id, version) VALUES (1, 0)",
    ),
)


@dataclass(frozen=True)
class Dialect:
    name: str
    placeholder: str
    blob: str
    connect: Callable[[], Any]
    lock_migrations: str | None = None  # SQL run first in the migration transaction


def sqlite_dialect(path: Path) -> Dialect:
    def connect() -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        conn.execute("PRAGMA journal_mode=WAL")  # readers (other processes) never block the writer
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe with WAL
        return conn

    return Dialect("sqlite", "?", "BLOB", connect)


def postgres_dialect(url: str) -> Dialect:
    def connect() -> Any:
        import psycopg  # the postgres extra; only this dialect needs it

        return psycopg.connect(url, autocommit=True)

    return Dialect("postgresql", "%s", "BYTEA", connect, "SELECT pg_advisory_xact_lock(727274)")
