"""Turn free-text credits ("Chris Leutwyler (Krobonil)", "Ozoneone & Krobonil") into artist labels.

A credit is cleaned (URLs, nicknames in parentheses, "aka" suffixes and boilerplate
removed), split into its contributors, and each contributor is mapped to one
canonical name through :data:`ALIASES`, an explicit table of people who appear
under several names across the packages. Names that differ only in case, accents,
spacing or punctuation are treated as the same person.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Final

#: name key (see :func:`name_key`) -> canonical artist label. Each entry is
#: documented by the package credits cited beside it.
ALIASES: Final[dict[str, str]] = {
    # supertuxkart copyright: "Chris Leutwyler & Max Freeman" wrote theGreatFair,
    # credited elsewhere as "Ozoneone & Krobonil"; "Chris Leutwyler (Krobonil)".
    "0zone0ne": "Max Freeman",
    "ozoneone": "Max Freeman",
    "krobonil": "Chris Leutwyler",
    # wesnoth tags "Joseph G. Toscano (Zhaytee)", website zhaymusic.com; supertux
    # retro tracks are tagged only with that website.
    "zhaytee": "Joseph G. Toscano",
    "zhaymusiccom": "Joseph G. Toscano",
    "httpzhaymusiccom": "Joseph G. Toscano",
    # supertux credits: Marek "Wansti" Moeckel; Lukas Nystrand (as Mortimer Twang).
    "wansti": "Marek Moeckel",
    "mortimertwang": "Lukas Nystrand",
    # hyperrogue tags say NeonCorridor; its copyright file credits Shawn Parrotte.
    "neoncorridor": "Shawn Parrotte",
    # singularity tags say Maxstack; the package copyright names Max McCracken.
    "maxstack": "Max McCracken",
    # supertuxkart: "http://opengameart.org, from bart"; copyright: Bart Kelsey.
    "httpopengameartorgfrombart": "Bart Kelsey",
    "bartk": "Bart Kelsey",
    # supertux tags "Jason Lavallee"; supertuxkart and the supertux credits "Jason Lavallée".
    "jasonlavallee": "Jason Lavallée",
    # supertuxkart spells these two ways.
    "djhelium": "DJ Helium",
    "geekpenguinbr": "Geek Penguin",
    # widelands credits list "Klaus Halfmann (Hasi50)"; one tag says "aka Hasi50".
    "hasi50": "Klaus Halfmann",
    # berusky2-data tags two tracks "Matrin Linda", the other 21 "Martin Linda".
    "matrinlinda": "Martin Linda",
    # redeclipse-data copyright: Derek "JoJo" Stegall (a nickname in quotes).
    "derekjojostegall": "Derek Stegall",
    # fretsonfire: the muldjord readme says El Senator of the band Muldjord.
    "elsenator": "Muldjord",
}

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_BRACKETED = re.compile(r"\s*[(\[<][^)\]>]*[)\]>]")
_AKA = re.compile(r"\s+(?:aka|a\.k\.a\.)\s+.*$", re.IGNORECASE)
_PREFIX = re.compile(
    r"^(?:(?:composed|performed|written|arranged|music)(?:\s+and\s+\w+)?\s+by|by|copyright|\(c\)|©)\s+",
    re.IGNORECASE,
)
_YEARS = re.compile(r"^\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*,?\s*)+")
_SPLIT = re.compile(r"\s*(?:,|&|\+|/|;|\band\b|\bfeat\.?|\bft\.?|\bwith\b|\bvs\.?)\s*", re.IGNORECASE)
_TRAILING_DASH = re.compile(r"\s+[-–]\s*$")


def name_key(name: str) -> str:
    """Comparison key of a name: accents folded, case folded, only letters and digits kept."""
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return "".join(c for c in folded.casefold() if c.isalnum())


def clean_credit(raw: str) -> str:
    """Strip the boilerplate around a credit, keeping the contributor names.

    ``"Muldjord - www.muldjord.com"`` -> ``"Muldjord"``,
    ``"Composed and performed by Sectoid"`` -> ``"Sectoid"``,
    ``"2017 0zone0ne and Krobonil"`` -> ``"0zone0ne and Krobonil"``,
    ``"Heuchi1 (contains material from NASA)"`` -> ``"Heuchi1"``.
    """
    text = html.unescape(raw).replace("\r", " ").replace("\n", " ").strip()
    text = _BRACKETED.sub("", text)
    text = _URL.sub("", text)
    text = _AKA.sub("", text)
    text = _YEARS.sub("", text)
    text = _PREFIX.sub("", text.strip())
    text = _TRAILING_DASH.sub("", text.strip())
    return " ".join(text.split()).strip(" ,;-")


def canonical_name(name: str) -> str:
    """The label for one contributor: the alias table's name, else the cleaned name itself."""
    return ALIASES.get(name_key(name), name.strip())


def split_credit(raw: str | None) -> list[str]:
    """Canonical names of everyone credited in ``raw`` (empty when there is no usable credit).

    A credit that is itself a known alias (even one containing a comma, such as
    ``"http://opengameart.org, from bart"``) is mapped whole before splitting.
    Duplicates are removed, first occurrence first.
    """
    if raw is None or not raw.strip():
        return []
    whole = ALIASES.get(name_key(raw))
    if whole is not None:
        return [whole]
    names: list[str] = []
    for part in _SPLIT.split(clean_credit(raw)):
        part = part.strip(" .")
        if not part or not any(c.isalpha() for c in part):
            continue
        name = canonical_name(part)
        if name_key(name) not in {name_key(n) for n in names}:
            names.append(name)
    return names


def unify_spellings(labels: list[str]) -> dict[str, str]:
    """Map each label to one spelling per :func:`name_key` (the most frequent, ties alphabetical).

    "Jason Lavallee" and "Jason Lavallée" become one artist.
    """
    counts: dict[str, dict[str, int]] = {}
    for label in labels:
        spellings = counts.setdefault(name_key(label), {})
        spellings[label] = spellings.get(label, 0) + 1
    chosen = {key: min(sp, key=lambda s: (-sp[s], s)) for key, sp in counts.items()}
    return {label: chosen[name_key(label)] for label in labels}
