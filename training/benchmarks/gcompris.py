"""Benchmark "gcompris": words, letters and sentences read aloud for GCompris, in many languages.

Source: the public repository ``gcompris/GCompris-voices`` (GPL; a few folders CC BY-SA, each
folder's README says which), ``<lang>/<activity>/*.ogg``, 1-6 volunteers a language. Who reads
a file is taken from the README nearest to it (its folder's, else its language's): a line
``<file>.ogg  <name> [year] / <license>`` names that file's speaker; a README of prose names
one for its whole folder ("made by X", "a recording of X"). Files no README attributes are the
speaker ``<activity>-unattributed`` (one unnamed voice per activity folder). The attributions are the
contributors' own and not always right (a few languages credit another language's speaker).

language = the folder's ISO 639 code without its region (``pt_BR`` -> ``pt``), and ``no`` for
both written standards of Norwegian (``nb`` and ``nn`` hold the same recordings); a file found
byte-identical under two languages (a contributor's copy of another language's file) is left
out of both, since it cannot say which language it is in. voice =
``gcompris-<lang>-<speaker>``; artist is empty (a language-only label). A voice's files, sorted
by path, are concatenated into ~60 s "songs" as the voices benchmark does; voices with less than
:data:`MIN_SECONDS` of speech are left out.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Final

from training.benchmarks.convert import md5_file
from training.benchmarks.repository import checkout
from training.benchmarks.voices import GAP_S, SONG_TARGET_S, Spoken, spoken_songs, write_spoken

NAME: Final = "gcompris"
SOURCE: Final = "https://github.com/gcompris/GCompris-voices"
MIN_SECONDS: Final = 60.0  # one song at least
ALIASES: Final = {"nb": "no", "nn": "no"}  # spoken Norwegian: one language, two written standards
LANGUAGE_DIR: Final = re.compile(r"^([a-z]{2,3})(?:_[A-Z]{2})?$")
FILE_LINE: Final = re.compile(r"^\ufeff?\s*(\S+\.og[g])\s+(.+)$", re.MULTILINE)
PROSE_NAME: Final = re.compile(r"(?:made by|recording of|processed by) ((?:[A-Z][\w.'-]* ?){1,4})")
NOT_NAMES: Final = re.compile(r"copyright|ophavsret|voice\s*:|public domain|\b\d{4}\b", re.IGNORECASE)


def speaker_name(credit: str) -> str:
    """The person in a README credit, lower case (``""`` when it names nobody).

    >>> speaker_name("Copyright 2003 Jose Jorge / Released under GPL")
    'jose jorge'
    """
    person = NOT_NAMES.sub(" ", credit.split("/")[0])
    return " ".join(person.split()).lower()


def slug(name: str) -> str:
    """``name`` as ASCII words joined by ``-`` (for voice ids); other scripts are dropped, so a
    credit such as "Михаило Симић (Mihailo Simic)" keeps its Latin spelling."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "unnamed"


def readme_credits(text: str) -> tuple[dict[str, str], str]:
    """``({file name: speaker}, speaker of the whole folder or "")`` from one README's text."""
    per_file = {m.group(1): speaker_name(m.group(2)) for m in FILE_LINE.finditer(text)}
    per_file = {name: who for name, who in per_file.items() if who}
    prose = PROSE_NAME.search(text) if not per_file else None
    return per_file, speaker_name(prose.group(1)) if prose else ""


def speaker_of(path: Path, language_dir: Path) -> str:
    """Who reads ``path`` (under ``language_dir``), from the nearest README (module docstring)."""
    folder = path.parent
    while True:
        readme = folder / "README"
        if readme.is_file():
            per_file, whole = readme_credits(readme.read_text(encoding="utf-8", errors="replace"))
            if per_file.get(path.name) or whole:
                return per_file.get(path.name) or whole
        if folder == language_dir:
            break
        folder = folder.parent
    activity = path.relative_to(language_dir).parts[0] if path.parent != language_dir else "misc"
    return f"{activity}-unattributed"


def files_by_voice(root: Path) -> dict[tuple[str, str], list[Path]]:
    """``{(voice, language): files}`` over every language folder of the checkout at ``root``."""
    languages: dict[str, set[str]] = {}  # md5 -> the languages it is filed under
    files: list[tuple[Path, Path, str, str]] = []
    for language_dir in sorted(p for p in root.iterdir() if p.is_dir() and LANGUAGE_DIR.match(p.name)):
        code = LANGUAGE_DIR.match(language_dir.name).group(1)  # type: ignore[union-attr]
        language = ALIASES.get(code, code)
        for path in sorted(language_dir.rglob("*.ogg"), key=lambda p: p.relative_to(root).as_posix()):
            if not path.is_symlink():
                md5 = md5_file(path)
                languages.setdefault(md5, set()).add(language)
                files.append((path, language_dir, language, md5))
    found: dict[tuple[str, str], list[Path]] = {}
    for path, language_dir, language, md5 in files:
        if len(languages[md5]) == 1:
            voice = f"gcompris-{language}-{slug(speaker_of(path, language_dir))}"
            found.setdefault((voice, language), []).append(path)
    return found


def build(
    *,
    cache_dir: Path,
    jobs: int = 2,
    source: str | Path = SOURCE,
    target_s: float = SONG_TARGET_S,
    gap_s: float = GAP_S,
) -> Path:
    """Clone (or read) the repository, group, convert and write ``<cache>/gcompris/manifest.csv``."""
    root = checkout(source, cache_dir=cache_dir, name="GCompris-voices", expect="en/words")
    songs: list[Spoken] = []
    for (voice, language), paths in sorted(files_by_voice(root).items()):
        songs += spoken_songs(
            voice, language, paths, root, target_s=target_s, gap_s=gap_s, min_seconds=MIN_SECONDS
        )
    return write_spoken(cache_dir / NAME, songs, name=NAME, jobs=jobs, gap_s=gap_s)
