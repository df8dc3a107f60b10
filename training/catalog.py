"""A catalog of labelled songs, read from the paper's folder layout or from a CSV manifest.

Folder layout: ``<root>/<language>/<artist>/<song>.<ext>``.
CSV manifest: columns ``path,artist,language`` at least (paths relative to the CSV's folder);
any further column is kept as a label that may stand in for a task (e.g. ``soundtrack``), and an
optional ``group`` column keeps related songs (a remaster and its original) in one split.

A label may be empty: the song is not labelled for that task (partial labels, e.g. speech with a
language but no artist, or music whose composer is uncredited). Training masks that task's loss
for the song and evaluation counts each task on the songs labelled for it. A row with neither an
artist nor a language says nothing and is refused.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3"})
REQUIRED_COLUMNS = ("path", "artist", "language")


@dataclass(frozen=True)
class Song:
    """One audio file and its labels; ``song_id`` is stable across runs (a hash of the path)."""

    song_id: str
    path: Path
    labels: dict[str, str]
    group: str


def labelled(songs: list[Song], task: str) -> list[Song]:
    """The songs with a label for ``task`` (an empty label is a partial one: none for that task)."""
    return [s for s in songs if s.labels.get(task, "")]


def song_id_for(relative_path: str) -> str:
    return hashlib.sha1(relative_path.encode("utf-8")).hexdigest()[:16]


def _from_folder(root: Path) -> list[Song]:
    songs = []
    for path in sorted(root.glob("*/*/*")):
        if path.suffix.lower() not in AUDIO_EXTENSIONS or not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        language, artist = path.parent.parent.name, path.parent.name
        sid = song_id_for(rel)
        songs.append(Song(sid, path, {"artist": artist, "language": language}, group=sid))
    return songs


def _from_csv(manifest: Path) -> list[Song]:
    with manifest.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{manifest}: missing column(s) {missing}; found {reader.fieldnames}")
        songs = []
        for line, row in enumerate(reader, start=2):
            rel = (row.pop("path") or "").strip()
            if not rel:
                raise ValueError(f"{manifest}:{line}: empty path")
            sid = song_id_for(f"{manifest.parent.name}/{rel}")  # two manifests may both have audio/x
            group = (row.pop("group", None) or "").strip() or sid
            labels = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if not any(labels[t] for t in REQUIRED_COLUMNS[1:]):
                raise ValueError(
                    f"{manifest}:{line}: no label: both {list(REQUIRED_COLUMNS[1:])} empty for {rel!r}"
                )
            songs.append(Song(sid, manifest.parent / rel, labels, group))
    return songs


def load_catalog(*sources: Path | str) -> list[Song]:
    """Read a catalog from folders (``<language>/<artist>/<song>``) and/or CSV manifests.

    Several sources are merged (e.g. two benchmarks into one training set).

    Raises:
        ValueError: no songs, a missing column, a row without any label, or a duplicated path.
    """
    songs: list[Song] = []
    for source in map(Path, sources):
        if source.is_dir():
            found = _from_folder(source)
        elif source.is_file() and source.suffix.lower() == ".csv":
            found = _from_csv(source)
        else:
            raise ValueError(f"{source}: expected a folder <language>/<artist>/<song> or a .csv manifest")
        if not found:
            raise ValueError(f"{source}: no audio files found")
        songs += found
    ids = [s.song_id for s in songs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{', '.join(map(str, sources))}: the same path is listed more than once")
    return songs
