"""Benchmark "tuxpaint": spoken descriptions of Tux Paint's stamps, in many languages.

Debian's ``tuxpaint-stamps-default`` holds, beside each stamp, short recordings of its
description read aloud, ``<stamp>_desc_<lang>.ogg``: about one volunteer per language (ro, es,
ru, fr, bg, el, be, ca and a few minutes of da and others). A language's descriptions, sorted by
path, are concatenated into ~60 s "songs" as the voices benchmark does with telephone prompts.

language = the ISO 639-1 code of the file name; voice = ``tuxpaint-<lang>``; artist is left empty:
the speaker is nobody in any artist label set (a partial label: the language alone). Languages
with less than :data:`MIN_SECONDS` of speech are left out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from training.benchmarks.debian import fetch_packages
from training.benchmarks.voices import GAP_S, SONG_TARGET_S, Spoken, spoken_songs, write_spoken

NAME: Final = "tuxpaint"
PACKAGE: Final = "tuxpaint-stamps-default"
STAMPS_DIR: Final = "usr/share/tuxpaint/stamps"
DESCRIPTION: Final = re.compile(r"_desc_([a-z]{2})\.ogg$")  # a plain two-letter code; variants are skipped
MIN_SECONDS: Final = 60.0  # one song at least


def descriptions_by_language(root: Path) -> dict[str, list[Path]]:
    """``{language: description files}``, each list sorted by path relative to ``root``."""
    found: dict[str, list[Path]] = {}
    for path in sorted(root.rglob("*.ogg"), key=lambda p: p.relative_to(root).as_posix()):
        match = DESCRIPTION.search(path.name)
        if match and not path.is_symlink():
            found.setdefault(match.group(1), []).append(path)
    return found


def build(*, cache_dir: Path, jobs: int = 2, target_s: float = SONG_TARGET_S, gap_s: float = GAP_S) -> Path:
    """Download, group, convert and write ``<cache>/tuxpaint/manifest.csv``; return its path."""
    root = fetch_packages([PACKAGE], cache_dir=cache_dir)[PACKAGE]
    stamps = root / STAMPS_DIR
    songs: list[Spoken] = []
    for language, paths in sorted(descriptions_by_language(stamps).items()):
        songs += spoken_songs(
            f"tuxpaint-{language}",
            language,
            paths,
            stamps,
            target_s=target_s,
            gap_s=gap_s,
            min_seconds=MIN_SECONDS,
        )
    return write_spoken(cache_dir / NAME, songs, name=NAME, jobs=jobs, gap_s=gap_s)
