"""``songid exposure-split``: give a split's training an exposure part, and keep music for testing.

Outlier exposure trains on music by people outside the label set, so that music can no longer
test the open set. This halves such a manifest by composer (an uncredited track counts under its
soundtrack), alternately in name order: one half joins the split as its ``exposure`` part, the
other half is written as a manifest of unknown songs to calibrate and measure with.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from training.catalog import Song, load_catalog
from training.split import EXPOSURE, read_split, write_split


def composer_key(song: Song) -> str:
    return song.labels.get("artist") or f"uncredited:{song.labels.get('soundtrack', song.song_id)}"


def halve(songs: list[Song]) -> tuple[list[Song], list[Song]]:
    """``(exposure, held out)``: composers sorted by name, the 2nd, 4th... for exposure."""
    keys = sorted({composer_key(s) for s in songs})
    held = set(keys[0::2])
    return [s for s in songs if composer_key(s) not in held], [s for s in songs if composer_key(s) in held]


def exposure_split(split_file: Path, outsiders: Path, out_split: Path, out_heldout: Path) -> tuple[int, int]:
    """Write ``out_split`` (``split_file`` plus the exposure half) and ``out_heldout`` (the other half's
    rows of ``outsiders``, same columns); returns the two halves' sizes."""
    exposure, held = halve(load_catalog(outsiders))
    assignment = read_split(split_file)
    overlap = {s.song_id for s in exposure} & set(assignment)
    if overlap:
        raise ValueError(f"{outsiders}: {len(overlap)} song(s) are already in {split_file}")
    meta = json.loads(split_file.read_text(encoding="utf-8"))
    extra = {k: v for k, v in meta.items() if k not in ("assignment", "counts")}
    write_split(out_split, {**assignment, **dict.fromkeys((s.song_id for s in exposure), EXPOSURE)}, **extra)
    names = {s.path.name for s in held}
    with outsiders.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = [row for row in reader if Path(row["path"]).name in names]
        fields = list(reader.fieldnames or [])
    with out_heldout.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return len(exposure), len(held)
