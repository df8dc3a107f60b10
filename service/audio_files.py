"""Which files of a folder are audio: the one listing ``songid-tag`` and ``songid-enrol`` share.

Its own module so that the batch tagger and the gallery's enrolment tool, which each use the
other's package for nothing else, do not import one another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

#: File name extensions taken from a folder (compared in lower case). The same list as the
#: training catalog's, repeated here because the service does not import the training package.
AUDIO_EXTENSIONS: Final = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3"})


def audio_files(root: Path) -> list[Path]:
    """The audio files under ``root`` (recursively, by :data:`AUDIO_EXTENSIONS`), sorted."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
