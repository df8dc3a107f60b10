"""Benchmark "fillets": acted game dialogue of Fish Fillets NG, in Czech, Dutch and English.

Debian's ``fillets-ng-data-cs`` and ``fillets-ng-data-nl`` hold the game's spoken lines in those
languages, and ``fillets-ng-data`` a few English ones, as ``sound/<level>/<lang>/<level>-<role>-<line>.ogg``.
The role names the speaker: ``m`` the small fish and ``v`` the big fish (the two main actors of a
language), anything else a minor character (several actors, grouped here as one "others" voice). A
voice's lines, sorted by path, are concatenated into ~60 s "songs" as the voices benchmark does.

language = the folder's ISO 639-1 code; voice = ``fillets-<lang>-<small-fish|big-fish|others>``;
artist is left empty (the actors are not named: a language-only, partial label). Voices with less
than :data:`MIN_SECONDS` of speech are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from training.benchmarks.debian import fetch_packages
from training.benchmarks.voices import GAP_S, SONG_TARGET_S, Spoken, spoken_songs, write_spoken

NAME: Final = "fillets"
SOUND_DIR: Final = "usr/share/games/fillets-ng/sound"
#: package -> the language of its lines
PACKAGES: Final = {"fillets-ng-data-cs": "cs", "fillets-ng-data-nl": "nl", "fillets-ng-data": "en"}
ROLES: Final = {"m": "small-fish", "v": "big-fish"}
MIN_SECONDS: Final = 60.0  # one song at least


def voice_of(path: Path, language: str) -> str:
    """The voice of a line from its file name ``<level>-<role>-<line>.ogg``."""
    parts = path.stem.split("-")
    role = parts[1] if len(parts) >= 3 else ""
    return f"fillets-{language}-{ROLES.get(role, 'others')}"


def lines_by_voice(sound: Path, language: str) -> dict[str, list[Path]]:
    """``{voice: line files}`` of one language under ``sound/``, each list sorted by path."""
    found: dict[str, list[Path]] = {}
    for path in sorted(sound.glob(f"*/{language}/*.ogg"), key=lambda p: p.relative_to(sound).as_posix()):
        if not path.is_symlink():
            found.setdefault(voice_of(path, language), []).append(path)
    return found


def build(*, cache_dir: Path, jobs: int = 2, target_s: float = SONG_TARGET_S, gap_s: float = GAP_S) -> Path:
    """Download, group, convert and write ``<cache>/fillets/manifest.csv``; return its path."""
    roots = fetch_packages(list(PACKAGES), cache_dir=cache_dir)
    songs: list[Spoken] = []
    for package, language in PACKAGES.items():
        sound = roots[package] / SOUND_DIR
        for voice, paths in sorted(lines_by_voice(sound, language).items()):
            songs += spoken_songs(
                voice, language, paths, sound, target_s=target_s, gap_s=gap_s, min_seconds=MIN_SECONDS
            )
    return write_spoken(cache_dir / NAME, songs, name=NAME, jobs=jobs, gap_s=gap_s)
