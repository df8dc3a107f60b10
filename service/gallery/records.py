"""What the gallery stores: artists enrolled from their songs' embeddings, and its errors.

An artist is kept as the sum of its songs' song-level embeddings and their count (so adding a
song is one update and the centroid is ``sum / count``), with the model whose embedding it is:
embeddings of two model versions are never compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np

from service.domain_errors import ConflictError, NotFoundError

ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"  # an enrolled artist's id


class ArtistNotFoundError(NotFoundError):
    def __init__(self, artist_id: str) -> None:
        super().__init__(f"no enrolled artist {artist_id!r}")


class ArtistExistsError(ConflictError):
    def __init__(self, artist_id: str) -> None:
        super().__init__(
            f"artist {artist_id!r} is already enrolled; add songs with POST /artists/{{id}}/songs"
        )


@dataclass(frozen=True)
class EnrolledSong:
    """One enrolment song: its song-level embedding and where its audio can be read again."""

    embedding: np.ndarray  # (dim,) float32, the mean of the song's segment embeddings
    sha256: str  # of the encoded file: the same file twice is one song
    reference: str | None = None  # a path or URI to re-embed from after a model change; None: none kept


@dataclass(frozen=True)
class ArtistRecord:
    """An enrolled artist as stored."""

    artist_id: str
    name: str
    model: str  # "<model name>:<version>" whose embedding ``embedding_sum`` holds
    n_songs: int
    embedding_sum: np.ndarray  # (dim,) float32
    created: datetime
    updated: datetime

    @property
    def centroid(self) -> np.ndarray:
        return np.asarray(self.embedding_sum / max(self.n_songs, 1), dtype=np.float32)


@dataclass(frozen=True)
class Change:
    """What one write did, read in the transaction that made it.

    Attributes:
        record: the artist after the write; None after a deletion.
        added: songs that were new (a file already enrolled for the artist is skipped).
        version: the store's change counter after the write (``GalleryStore.version``).
    """

    record: ArtistRecord | None
    added: int
    version: int


BLOB_DTYPE: Final = np.dtype("<f4")  # little-endian float32: 4 bytes a value, any machine


def to_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=BLOB_DTYPE).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=BLOB_DTYPE).astype(np.float32)


def now_text() -> str:
    """The time now as stored (ISO 8601, UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def record_from_row(row: Sequence[Any]) -> ArtistRecord:
    """An artist from a row ``(artist_id, name, model, n_songs, embedding_sum, created, updated)``."""
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
