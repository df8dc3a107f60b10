"""Parsers for the credit files shipped in the packages.

- Debian machine-readable copyright files (``usr/share/doc/<pkg>/copyright``).
- Warzone 2100 ``album.json`` (per-track ``author``).
- SuperTuxKart ``*.music`` descriptors (``composer=`` attribute).
- Frets on Fire ``song.ini`` (``artist =``).
"""

from __future__ import annotations

import configparser
import fnmatch
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path


class CreditFileError(ValueError):
    """A credit file exists but cannot be parsed; the message names the file."""


@dataclass(frozen=True)
class CopyrightStanza:
    """One ``Files:`` paragraph of a machine-readable Debian copyright file."""

    patterns: tuple[str, ...]
    copyright: str


def parse_debian_copyright(text: str) -> list[CopyrightStanza]:
    """The ``Files:`` stanzas of a DEP-5 copyright file, in file order (non-DEP-5 text gives ``[]``)."""
    stanzas: list[CopyrightStanza] = []
    for paragraph in re.split(r"\n\s*\n", text):
        fields: dict[str, list[str]] = {}
        current: str | None = None
        for line in paragraph.splitlines():
            if line[:1] in (" ", "\t") and current is not None:
                fields[current].append(line.strip())
                continue
            key, sep, value = line.partition(":")
            if sep and key and " " not in key.strip():
                current = key.strip().lower()
                fields[current] = [value.strip()] if value.strip() else []
            else:
                current = None
        if "files" in fields and "copyright" in fields:
            patterns = tuple(p for line in fields["files"] for p in line.split())
            holders = "; ".join(v for v in fields["copyright"] if v and v != ".")
            stanzas.append(CopyrightStanza(patterns, holders))
    return stanzas


def copyright_for(stanzas: list[CopyrightStanza], path: str, *, ignore_catch_all: bool = True) -> str | None:
    """Copyright holder of ``path`` (a path inside the package), or ``None``.

    Patterns name upstream source paths (``music/x.ogg``) while ``path`` is the
    installed one (``usr/share/game/music/x.ogg``), so a pattern matches when it
    matches a trailing part of ``path``. The last matching stanza wins (DEP-5). With
    ``ignore_catch_all`` a match by a bare ``*`` (the project's blanket notice,
    not a per-file credit) does not count.
    """
    found: str | None = None
    parts = path.split("/")
    tails = ["/".join(parts[i:]) for i in range(len(parts))]
    for stanza in stanzas:
        for pattern in stanza.patterns:
            if ignore_catch_all and pattern == "*":
                continue
            if any(fnmatch.fnmatchcase(tail, pattern) for tail in tails):
                found = stanza.copyright
                break
    return found


def parse_album_json(path: Path) -> dict[str, str]:
    """Warzone 2100 ``album.json``: track filename -> author (the track's, else the album's)."""
    try:
        album = json.loads(path.read_text(encoding="utf-8"))
        default = str(album.get("author", "")).strip()
        return {
            str(track["filename"]): str(track.get("author") or default).strip()
            for track in album.get("tracks", [])
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise CreditFileError(f"cannot parse album file {path}: {e}") from e


_XML_ATTR = re.compile(r"([A-Za-z_][\w.-]*)\s*=\s*\"([^\"]*)\"")


def parse_music_descriptor(text: str) -> dict[str, str]:
    """Attributes of a SuperTuxKart ``<music .../>`` descriptor.

    Parsed with a tolerant regex, not an XML parser: some upstream files are not
    well-formed XML (an unescaped ``<URL>`` inside the composer attribute).
    """
    start = text.find("<music")
    if start < 0:
        return {}
    end = text.find("/>", start)
    element = text[start : end if end >= 0 else len(text)]
    return {key: html.unescape(value).strip() for key, value in _XML_ATTR.findall(element)}


def parse_song_ini(text: str) -> dict[str, str]:
    """The ``[song]`` section of a Frets on Fire ``song.ini`` (keys lower-cased)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as e:
        raise CreditFileError(f"cannot parse song.ini: {e}") from e
    if not parser.has_section("song"):
        return {}
    return {key.lower(): value.strip() for key, value in parser.items("song")}
