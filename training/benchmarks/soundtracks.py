"""Where each game-music package keeps its tracks and its per-track composer credits.

Each collector takes an extracted package tree and lists its music tracks with
the raw credit text and where that credit came from; turning credits into labels
and filtering happen in :mod:`training.benchmarks.gamemusic`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Final

from training.benchmarks.credits import (
    CopyrightStanza,
    copyright_for,
    parse_album_json,
    parse_debian_copyright,
    parse_music_descriptor,
    parse_song_ini,
)
from training.benchmarks.tags import TagError, first_tag, read_tags

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """One music track found in a package, before labelling and filtering.

    Attributes:
        package: the Debian package (the ``soundtrack`` label).
        source: path of the track inside the package (for multi-file songs, the main file).
        files: audio files played together to make the track (usually just ``source``).
        credit: the raw credit text, ``None`` when the package credits nobody.
        credit_source: where ``credit`` was read (``COMPOSER``, ``album.json``, ...).
        work: id of the musical work inside the package; remasters share their original's.
    """

    package: str
    source: str
    files: tuple[Path, ...]
    credit: str | None
    credit_source: str
    work: str


#: (package, work of the remaster) -> work of the original (lower case), where the package says so.
REMASTERS: Final[dict[tuple[str, str], str]] = {
    # aftermath_soundtrack/license.txt: "track3_enhanced is derived from Martin Severn's
    # original albums/original_soundtrack/track3".
    ("warzone2100-music", "track3_enhanced"): "track3",
    # album.json title "Menu Theme - Enhanced": a longer version of the stand-alone menu.opus.
    ("warzone2100-music", "menu_enhanced"): "menu",
    # tag TITLE "Humanitarian v2 - The Box", same composer as "Humanitarian".
    ("colobot-common-sounds", "hv2"): "humanitarian",
}

#: (package, file name) -> (credit, where it is stated), for credits no parser can read.
CREDIT_OVERRIDES: Final[dict[tuple[str, str], tuple[str, str]]] = {
    # album.json names the remastering author; the album's license.txt says the work is
    # "derived from Martin Severn's original albums/original_soundtrack/track3".
    ("warzone2100-music", "track3_enhanced.opus"): ("Martin Severn", "license.txt"),
}


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _work(package: str, stem: str) -> str:
    """Work id: the file (or song folder) name in lower case, or the original's for a remaster."""
    return REMASTERS.get((package, stem.lower()), stem.lower())


def _copyright_stanzas(root: Path, package: str) -> list[CopyrightStanza]:
    path = root / "usr/share/doc" / package / "copyright"
    return (
        parse_debian_copyright(path.read_text(encoding="utf-8", errors="replace")) if path.is_file() else []
    )


def _tag_credit(path: Path, keys: tuple[str, ...]) -> tuple[str, str] | None:
    try:
        return first_tag(read_tags(path), *keys)
    except TagError as e:
        log.warning("no tags read from %s: %s", path, e)
        return None


def collect_tagged(
    root: Path,
    package: str,
    *,
    patterns: tuple[str, ...],
    tag_keys: tuple[str, ...] = ("COMPOSER", "ARTIST"),
    copyright_first: bool = False,
    use_copyright: bool = True,
) -> list[Candidate]:
    """Tracks matching ``patterns`` (globs under ``root``), credited by their tags.

    The package's machine-readable copyright file is used where it names the file
    itself (never its blanket ``Files: *`` notice): before the tags when
    ``copyright_first`` (it is the curated source), otherwise when tags are missing.
    Without ``use_copyright`` it is not read at all (packages whose copyright file names
    a team or the game's authors for the music folder, not a composer).
    """
    stanzas = _copyright_stanzas(root, package) if use_copyright else []
    out: list[Candidate] = []
    paths = sorted(
        {p for pattern in patterns for p in root.glob(pattern) if p.is_file() and not p.is_symlink()}
    )
    for path in paths:
        rel = _rel(root, path)
        from_copyright = copyright_for(stanzas, rel)
        tag = _tag_credit(path, tag_keys)
        credit: tuple[str, str] | None
        if from_copyright and (copyright_first or tag is None):
            credit = (from_copyright, "copyright")
        else:
            credit = (tag[1], tag[0]) if tag else None
        override = CREDIT_OVERRIDES.get((package, path.name))
        if override:
            credit = override
        out.append(
            Candidate(
                package=package,
                source=rel,
                files=(path,),
                credit=credit[0] if credit else None,
                credit_source=credit[1] if credit else "",
                work=_work(package, path.stem),
            )
        )
    return out


def collect_warzone(root: Path, package: str) -> list[Candidate]:
    """Warzone 2100: the tracks listed in each ``albums/*/album.json`` with their ``author``.

    Files no album lists (the stand-alone ``menu.opus``) have no credit and are not tracks.
    """
    out: list[Candidate] = []
    for album in sorted(root.glob("usr/share/games/warzone2100/music/albums/*/album.json")):
        for filename, author in sorted(parse_album_json(album).items()):
            path = album.parent / filename
            if not path.is_file():
                log.warning("%s lists %s, which is not in the package", album, filename)
                continue
            credit = CREDIT_OVERRIDES.get((package, filename), (author, "album.json"))
            out.append(
                Candidate(
                    package,
                    _rel(root, path),
                    (path,),
                    credit[0] or None,
                    credit[1],
                    _work(package, path.stem),
                )
            )
    return out


def collect_supertuxkart(root: Path, package: str) -> list[Candidate]:
    """SuperTuxKart: every ``*.music`` descriptor's main ``file`` and its ``composer``.

    The descriptors' ``fast-filename`` variants (the same piece sped up for the
    last lap) are never listed.
    """
    out: list[Candidate] = []
    for descriptor in sorted(root.glob("usr/share/games/supertuxkart/data/**/*.music")):
        attrs = parse_music_descriptor(descriptor.read_text(encoding="utf-8", errors="replace"))
        filename = attrs.get("file")
        if not filename:
            log.warning("%s names no music file", descriptor)
            continue
        path = descriptor.parent / filename
        if Path(filename).stem.endswith(("_fast", "_f")) or not path.is_file():
            log.warning("skipping %s -> %s (fast variant or missing)", descriptor.name, filename)
            continue
        composer = attrs.get("composer") or None
        out.append(
            Candidate(package, _rel(root, path), (path,), composer, ".music", _work(package, path.stem))
        )
    return out


def collect_fretsonfire(root: Path, package: str) -> list[Candidate]:
    """Frets on Fire songs: one track per song folder, the backing and guitar stems mixed.

    The credit is ``song.ini``'s ``artist``.
    """
    out: list[Candidate] = []
    for ini in sorted(root.glob("usr/share/games/fretsonfire/data/songs/*/*/song.ini")):
        song = ini.parent / "song.ogg"
        if not song.is_file():
            log.warning("%s has no song.ogg", ini.parent)
            continue
        stems = tuple(p for p in (song, ini.parent / "guitar.ogg", ini.parent / "rhythm.ogg") if p.is_file())
        artist = parse_song_ini(ini.read_text(encoding="utf-8", errors="replace")).get("artist") or None
        out.append(
            Candidate(package, _rel(root, song), stems, artist, "song.ini", _work(package, ini.parent.name))
        )
    return out


Collector = Callable[[Path, str], list[Candidate]]

#: package -> collector, in the order used to break ties (a byte-identical track
#: found in two packages is kept in the first).
SOUNDTRACKS: Final[dict[str, Collector]] = {
    "wesnoth-1.16-music": partial(
        collect_tagged, patterns=("usr/share/games/wesnoth/*/data/core/music/*.ogg",)
    ),
    "warzone2100-music": collect_warzone,
    "hyperrogue-music": partial(
        collect_tagged, patterns=("usr/share/hyperrogue/music/*.ogg",), copyright_first=True
    ),
    "colobot-common-sounds": partial(collect_tagged, patterns=("usr/share/games/colobot/music/*.ogg",)),
    "singularity-music": partial(collect_tagged, patterns=("usr/share/games/singularity/music/**/*.ogg",)),
    "openclonk-data": partial(collect_tagged, patterns=("usr/share/games/openclonk/Music.ocg/*.ogg",)),
    "fretsonfire-songs-muldjord": collect_fretsonfire,
    "fretsonfire-songs-sectoid": collect_fretsonfire,
    "supertux-data": partial(collect_tagged, patterns=("usr/share/games/supertux2/music/**/*.ogg",)),
    "widelands-data": partial(collect_tagged, patterns=("usr/share/games/widelands/data/music/*.ogg",)),
    "supertuxkart-data": collect_supertuxkart,
}
