"""The packages of the "composers" benchmark: gamemusic's soundtracks plus further Debian packages
whose credits name a composer per track, and the packages looked at and left out, with why.

Each new entry cites where its credits are read; the collectors are the shared ones of
:mod:`training.benchmarks.soundtracks` (tags and per-file copyright stanzas) or
:func:`collect_stated` for a package that names one composer for all its music.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Final

from training.benchmarks.soundtracks import SOUNDTRACKS, Candidate, Collector, collect_tagged

#: packages an independent check uses: never downloaded, listed or built by this benchmark
HELD_OUT: Final = frozenset(
    {
        "ufoai-music",
        "nexuiz-music",
        "warmux-data",
        "xmoto-data",
        "freedroidrpg-data",
        "asc-music",
        "lincity-ng-data",
        "extremetuxracer-data",
    }
)


def collect_stated(
    root: Path, package: str, *, patterns: tuple[str, ...], composer: str, where: str
) -> list[Candidate]:
    """Tracks matching ``patterns`` (globs under ``root``), all credited to ``composer``: for a
    package whose ``where`` (e.g. its copyright file) names one composer for all its music."""
    paths = sorted({p for pat in patterns for p in root.glob(pat) if p.is_file() and not p.is_symlink()})
    return [
        Candidate(package, p.relative_to(root).as_posix(), (p,), composer, where, p.stem.lower())
        for p in paths
    ]


#: package -> collector for the packages gamemusic does not read
NEW_SOUNDTRACKS: Final[dict[str, Collector]] = {
    # Ogg tags (ARTIST) of the music folder; no copyright stanza names the tracks.
    "naev-data": partial(collect_tagged, patterns=("usr/share/naev/dat/snd/music/*.ogg",)),
    "berusky2-data": partial(collect_tagged, patterns=("usr/share/games/berusky2/music/*.ogg",)),
    "marsshooter-data": partial(collect_tagged, patterns=("usr/share/games/marsshooter/audio/music/*.ogg",)),
    "davegnukem-data": partial(collect_tagged, patterns=("usr/share/games/davegnukem/music/**/*.ogg",)),
    "amoebax-data": partial(collect_tagged, patterns=("usr/share/games/amoebax/music/*.ogg",)),
    "adonthell-data": partial(
        collect_tagged, patterns=("usr/share/games/adonthell/games/wastesedge/audio/*.ogg",)
    ),
    "freecol": partial(
        collect_tagged, patterns=("usr/share/games/freecol/default/resources/music/**/*.ogg",)
    ),
    "lordsawar-data": partial(collect_tagged, patterns=("usr/share/games/lordsawar/music/*.ogg",)),
    "zaz-data": partial(collect_tagged, patterns=("usr/share/games/zaz/mus*.ogg",)),
    "krank": partial(collect_tagged, patterns=("usr/share/games/krank/sounds/menu/*.ogg",)),
    "starfighter-data": partial(collect_tagged, patterns=("usr/share/starfighter/music/*.ogg",)),
    "flare-game": partial(collect_tagged, patterns=("usr/share/games/flare/mods/*/music/*.ogg",)),
    # copyright stanzas name the game's team for the music folder: tags only.
    "unknown-horizons": partial(
        collect_tagged,
        patterns=("usr/share/unknown-horizons/content/audio/music/**/*.ogg",),
        use_copyright=False,
    ),
    "hedgewars-data": partial(
        collect_tagged, patterns=("usr/share/games/hedgewars/Data/Music/*.ogg",), use_copyright=False
    ),
    # per-file copyright stanzas (Paul Leach's three tracks, Sindre Froyn's, ...) before tags.
    "trackballs-data": partial(
        collect_tagged, patterns=("usr/share/games/trackballs/music/*.ogg",), copyright_first=True
    ),
    "redeclipse-data": partial(
        collect_tagged, patterns=("usr/share/games/redeclipse/data/sounds/music/*.ogg",), copyright_first=True
    ),
    # "Files: Music/*  Copyright: 2007-2009 Jordan Trudgett": one composer for the music folder.
    "ardentryst": partial(
        collect_tagged, patterns=("usr/share/games/ardentryst/Music/*.ogg",), copyright_first=True
    ),
    "gigalomania-data": partial(
        collect_tagged, patterns=("usr/share/gigalomania/music/*.ogg",), copyright_first=True
    ),
    # copyright: "Roberto Lorenz (Music compositon and arrangement)" for the whole game.
    "pushover-data": partial(
        collect_stated,
        patterns=("usr/share/pushover/themes/*.ogg",),
        composer="Roberto Lorenz",
        where="copyright (one composer)",
    ),
}

#: package -> why it was looked at and left out
LEFT_OUT: Final[dict[str, str]] = {
    "neverball-common": "no tags, no per-file credit for the music",
    "lugaru-data": "no tags, no per-file credit for the music",
    "torcs-data": "one tagged music track; the rest are sound effects",
    **dict.fromkeys(
        (
            "a7xpg-data",
            "gunroar-data",
            "mu-cade-data",
            "noiz2sa-data",
            "parsec47-data",
            "rrootage-data",
            "titanion-data",
            "torus-trooper-data",
            "tumiki-fighters-data",
        ),
        "a few untagged tracks; copyright names the game's author, not per track",
    ),
    "angrydd": "3 tracks, two composers: none reaches 3",
    "caveexpress-data": "sounds only; copyright names the game's author",
    "hex-a-hop-data": "3 tracks, one tagged",
    "freedink-data": "classical recordings credited to performers, most untagged",
    "tuxmath-data": "one tagged track",
    "glob2-data": "no tags, no per-file credit for the music",
    "holotz-castle-data": "no tags, no per-file credit for the music",
    "pinball-data": "no tags, no per-file credit for the music",
    "drascula-music": "copyright names only the studio (Alcachofa Soft), no composer",
    "boswars-data": "no music credit per track (tags empty, copyright per project)",
    "searchandrescue-data": "no tags, no per-file credit for the music",
    "plee-the-bear-data": "no tags; copyright gives the licence for all media, no composer",
    "planetblupi-music-ogg": "no tags; copyright names no composer per track",
    "scorched3d-data": "music credited to a mod team, not a person",
    "megaglest-data": "audio is sound effects and untagged faction music",
    "freedoom": "music is MIDI inside WAD files (no audio decoder)",
    "openttd-openmsx": "MIDI only (no audio decoder)",
    "planetblupi-music-midi": "MIDI only (no audio decoder)",
    "pingus-data": "music is tracker modules (no audio decoder)",
}

#: the composers benchmark's table: gamemusic's packages first (ties keep their copy), then the new
COMPOSER_SOUNDTRACKS: Final[dict[str, Collector]] = {**SOUNDTRACKS, **NEW_SOUNDTRACKS}
