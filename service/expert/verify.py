"""Check an expert folder file by file against the pinned SHA-256 before anything loads it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from service.expert.identity import PINNED, PROVENANCE_FILE


class ExpertError(RuntimeError):
    """The language expert cannot be obtained or loaded; the message says what and where."""


class ExpertIntegrityError(ExpertError):
    """A file of an expert folder is missing, unexpected, or not the pinned bytes."""


def sha256_file(path: Path) -> str:
    """The SHA-256 (hex) of a file's bytes, read in chunks."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def verify(folder: Path, *, pins: Mapping[str, str] = PINNED, where: str | None = None) -> dict[str, str]:
    """Refuse a folder unless it holds exactly the pinned files, byte for byte.

    Args:
        folder: the expert folder.
        pins: file name -> expected SHA-256 (hex); the expert's own by default.
        where: how errors name the folder (its path by default).

    Returns:
        file name -> SHA-256 (hex) of each pinned file, as measured.

    Raises:
        ExpertIntegrityError: the folder is missing; a pinned file is missing or its hash differs
            (the message names the file and both hashes); or a file is there that is neither
            pinned nor the provenance document (faster-whisper reads extra files it finds, such
            as ``preprocessor_config.json``, so none may slip in).
    """
    at = where or str(folder)
    advice = "" if where else " (remove the folder and fetch it again)"
    if not folder.is_dir():
        raise ExpertIntegrityError(f"{at}: not a folder (fetch the expert first: songid-expert fetch)")
    allowed = {*pins, PROVENANCE_FILE}
    unexpected = sorted(p.name for p in folder.iterdir() if p.name not in allowed)
    if unexpected:
        raise ExpertIntegrityError(
            f"{at}: unexpected file(s) {unexpected}; an expert folder holds only {sorted(allowed)}"
        )
    measured: dict[str, str] = {}
    for name, expected in pins.items():
        path = folder / name
        if not path.is_file():
            raise ExpertIntegrityError(f"{at}: {name} missing (expected SHA-256 {expected}){advice}")
        try:
            actual = sha256_file(path)
        except OSError as e:
            raise ExpertIntegrityError(f"{at}: {name} unreadable ({e})") from e
        if actual != expected:
            raise ExpertIntegrityError(
                f"{at}: {name} has SHA-256 {actual}, expected {expected}: corrupt or tampered, "
                f"refused{advice}"
            )
        measured[name] = actual
    return measured
