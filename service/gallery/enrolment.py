"""Songs to enrol, from encoded files: each through the serving pipeline to its mean embedding.

HTTP-free: the artists router and ``songid-enrol`` both call :func:`embed_songs`. Every file is
analysed before anything is stored, and every failure is named, so a request either enrols all
its files or none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np

from frontend.signature import EMBEDDING
from service.cancellation import CancelToken
from service.domain_errors import NoEvidenceError, NotAnalysableError, UnsupportedMediaError
from service.gallery.records import EnrolledSong
from service.pipeline import Pipeline

_HASH_CHUNK = 1 << 20


def file_sha256(file: BinaryIO) -> str:
    """The hex SHA-256 of the whole file; leaves it at the start."""
    file.seek(0)
    digest = hashlib.sha256()
    while chunk := file.read(_HASH_CHUNK):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def embed_songs(
    pipeline: Pipeline,
    files: Sequence[tuple[str, BinaryIO, str | None]],
    cancel: CancelToken | None = None,
) -> list[EnrolledSong]:
    """One :class:`EnrolledSong` per ``(shown name, file, reference)``.

    Raises:
        UnsupportedMediaError: some file is not decodable audio (all failures named).
        NoEvidenceError: every file decodes, but some have no evidence (named, with what was missing).
        NotAnalysableError: a file's level cannot be analysed.
        ValueError: the model has no embedding output.
    """
    undecodable: list[str] = []
    empty: list[str] = []
    songs: list[EnrolledSong] = []
    for shown, file, reference in files:
        sha = file_sha256(file)
        try:
            analysis = pipeline.analyse(file, cancel, rank_artists=False)  # its embedding is all it needs
        except (UnsupportedMediaError, NotAnalysableError) as e:
            undecodable.append(f"{shown}: {e.message}")
            continue
        if not analysis.evidence.present:
            empty.append(f"{shown}: {analysis.evidence.describe()}")
            continue
        if EMBEDDING not in analysis.song_outputs:
            raise ValueError("the served model has no embedding output: it cannot enrol artists")
        songs.append(EnrolledSong(analysis.song_outputs[EMBEDDING].astype(np.float32), sha, reference))
    if undecodable:
        raise UnsupportedMediaError(
            "nothing enrolled; not audio that can be analysed: " + "; ".join(undecodable + empty)
        )
    if empty:
        raise NoEvidenceError("nothing enrolled; no usable signal in: " + "; ".join(empty))
    return songs
