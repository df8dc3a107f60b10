"""The gallery's schema: its migrations, applied in order, each once, at each connection.

``{blob}`` in a statement is the database's binary column type (BLOB in SQLite, BYTEA in
PostgreSQL). Applied migrations are recorded in ``schema_migrations``; on PostgreSQL they run
under an advisory lock, so replicas starting together do not migrate twice.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from service.domain_errors import UnavailableError

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


def migrate(
    cur: Any, *, begin: str, blob: str, lock: str | None, sql: Callable[[str], str], where: str
) -> None:
    """Apply the migrations not applied yet on ``cur``'s connection (autocommit mode).

    A schema already current is only read, so a read-only database serves its artists.

    Args:
        begin: the statement that opens a write transaction.
        blob: the binary column type.
        lock: SQL run first in the migration transaction (an advisory lock), or None.
        sql: turns ``?`` placeholders into the database's.
        where: the database, as the error names it.

    Raises:
        UnavailableError: the schema is newer than this service knows.
    """
    with suppress(Exception):  # no table yet (a new database), or a failure the transaction meets too
        cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        if int(cur.fetchone()[0]) == len(MIGRATIONS):
            return
    cur.execute(begin)
    try:
        if lock:
            cur.execute(lock)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
        )
        cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        current = int(cur.fetchone()[0])
        if current > len(MIGRATIONS):
            raise UnavailableError(
                f"{where}: the gallery's schema is version {current}, newer than this service knows "
                f"({len(MIGRATIONS)}); upgrade the service"
            )
        applied = datetime.now(UTC).isoformat(timespec="milliseconds")
        for version, statements in enumerate(MIGRATIONS[current:], start=current + 1):
            for statement in statements:
                cur.execute(statement.format(blob=blob))
            cur.execute(sql("INSERT INTO schema_migrations VALUES (?, ?)"), (version, applied))
    except BaseException:
        with suppress(Exception):
            cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")
