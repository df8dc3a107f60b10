"""Manifest CSV files: ``path,artist,language,group,<extras>``, one row per audio file.

``path`` is relative to the manifest's folder; rows sharing a ``group`` must land
in the same train/validation/test split.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

BASE_COLUMNS: Final = ("path", "artist", "language", "group")


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> Path:
    """Write ``rows`` (dicts with exactly ``columns``) atomically; floats get 2 decimals."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="raise", lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: f"{v:.2f}" if isinstance(v, float) else v for k, v in row.items()})
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_manifest(path: Path, extra_columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> Path:
    """Write a manifest with :data:`BASE_COLUMNS` followed by ``extra_columns``."""
    clash = set(BASE_COLUMNS) & set(extra_columns)
    if clash:
        raise ValueError(f"extra columns repeat base columns: {sorted(clash)}")
    return write_csv(path, (*BASE_COLUMNS, *extra_columns), rows)


def read_manifest(path: Path) -> list[dict[str, str]]:
    """Rows of a manifest; raise ``ValueError`` naming the file if a base column is missing."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in BASE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} lacks manifest columns {missing}")
        return list(reader)


@dataclass(frozen=True)
class ManifestSummary:
    """Counts of a manifest: rows per artist and language, distinct groups, total hours."""

    rows: int
    hours: float
    groups: int
    per_artist: dict[str, int]
    per_language: dict[str, int]

    def format(self) -> str:
        """A multi-line human-readable report."""
        counts = sorted(self.per_artist.values())
        lines = [
            f"{self.rows} files, {self.hours:.2f} h, {len(self.per_artist)} artists, "
            f"{len(self.per_language)} languages, {self.groups} groups",
            f"files per artist: min {counts[0] if counts else 0}, max {counts[-1] if counts else 0}",
            "languages: " + ", ".join(f"{k} {v}" for k, v in sorted(self.per_language.items())),
        ]
        lines += [
            f"  {n:4d}  {artist}"
            for artist, n in sorted(self.per_artist.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        return "\n".join(lines)


def summarize(path: Path) -> ManifestSummary:
    """Count a manifest's rows (``duration_s`` gives the hours when present)."""
    rows = read_manifest(path)
    seconds = sum(float(r.get("duration_s") or 0.0) for r in rows)
    return ManifestSummary(
        rows=len(rows),
        hours=seconds / 3600.0,
        groups=len({r["group"] for r in rows}),
        per_artist=dict(Counter(r["artist"] for r in rows)),
        per_language=dict(Counter(r["language"] for r in rows)),
    )
