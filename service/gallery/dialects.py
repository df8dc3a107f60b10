"""The gallery's schema: its migrations, applied in order, each once (:mod:`service.gallery.sql_store`).

``{blob}`` is each database's binary column type (BLOB in SQLite, BYTEA in PostgreSQL).
"""

from __future__ import annotations

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
