"""Which files to tag: every audio file under a folder, or the ``path`` column of a CSV manifest.

Each file becomes an :class:`Item`: ``key`` is what the output records and what resuming
matches on (the path relative to the folder, or the manifest's ``path`` value as written),
``location`` is where to read it (absolute).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from service.audio_files import AUDIO_EXTENSIONS, audio_files

__all__ = ["AUDIO_EXTENSIONS", "PATH_COLUMN", "Item", "audio_files", "list_inputs"]

PATH_COLUMN: Final = "path"


@dataclass(frozen=True)
class Item:
    """One file to tag: ``key`` as recorded in the output, ``location`` as read (absolute)."""

    key: str
    location: str


def _from_folder(root: Path) -> list[Item]:
    return [Item(p.relative_to(root).as_posix(), str(p.resolve())) for p in audio_files(root)]


def _from_manifest(manifest: Path) -> list[Item]:
    try:
        with manifest.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if PATH_COLUMN not in (reader.fieldnames or []):
                raise ValueError(
                    f"{manifest}: no {PATH_COLUMN!r} column; found {reader.fieldnames or 'no header'}"
                )
            rows = [(reader.line_num, (row[PATH_COLUMN] or "").strip()) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{manifest}: cannot read the manifest: {e}") from e
    empty = [line for line, key in rows if not key]
    if empty:
        raise ValueError(f"{manifest}: empty {PATH_COLUMN!r} on line(s) {empty[:10]}")
    base = manifest.resolve().parent
    unique = dict.fromkeys(key for _, key in rows)  # a path listed twice is tagged once, first position kept
    return [Item(key, str(base / key)) for key in unique]


def list_inputs(source: Path | str) -> list[Item]:
    """The files of a folder (recursively, by :data:`AUDIO_EXTENSIONS`) or of a CSV manifest.

    Args:
        source: a folder, or a ``.csv`` file with a ``path`` column (paths relative to the
            manifest's folder, or absolute). Other columns are ignored.

    Returns:
        the items in a stable order: sorted for a folder, manifest order for a CSV.

    Raises:
        ValueError: ``source`` is neither a folder nor a CSV file, the manifest has no
            ``path`` column or an empty path, or nothing was found.
    """
    path = Path(source)
    if path.is_dir():
        items = _from_folder(path)
    elif path.is_file() and path.suffix.lower() == ".csv":
        items = _from_manifest(path)
    else:
        raise ValueError(f"{path}: expected a folder of audio files or a .csv manifest with a 'path' column")
    if not items:
        raise ValueError(f"{path}: no audio files found (extensions {', '.join(sorted(AUDIO_EXTENSIONS))})")
    return items
