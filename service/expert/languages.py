"""The expert's languages as the language task's labels: BCP 47 codes, names from langcodes, plus ``zxx``.

Whisper names its languages with (mostly) ISO 639-1 codes. Each is replaced by the IANA
language-subtag registry's preferred value where the registry deprecates it (Whisper's ``jw``
becomes ``jv``, Javanese); a language without an ISO 639-1 code keeps its three-letter code
(``haw``). Names come from langcodes (CLDR), in English.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Final

import langcodes
from language_data.registry_parser import parse_registry

from frontend.labels import Label
from service.expert.verify import ExpertError

NO_VOCALS: Final = "zxx"  # ISO 639-2: no linguistic content (the expert itself never answers it)


@lru_cache(maxsize=1)
def _preferred_values() -> dict[str, str]:
    """Deprecated language subtag -> its preferred value, from the IANA registry langcodes ships."""
    return {
        entry["Subtag"]: entry["Preferred-Value"]
        for entry in parse_registry()
        if entry.get("Type") == "language" and "Preferred-Value" in entry
    }


def iso_code(code: str) -> str:
    """The label id of one of Whisper's language codes (``jw`` -> ``jv``; ``en`` -> ``en``).

    Raises:
        ValueError: ``code`` is not a language subtag of the IANA registry.
    """
    if not langcodes.tag_is_valid(code) or "-" in code:
        raise ValueError(f"not a language code: {code!r}")
    return _preferred_values().get(code, code)


def language_name(code: str) -> str:
    """The English name of a label id (``jv`` -> ``Javanese``, ``zxx`` -> ``No linguistic content``)."""
    return str(langcodes.Language.get(code, normalize=False).display_name("en"))


def language_labels(whisper_codes: Iterable[str]) -> list[Label]:
    """The language task's labels for an expert that knows ``whisper_codes``: one per language and ``zxx``.

    Sorted by id (a stable order, whatever order the expert lists its languages in).

    Raises:
        ValueError: a code that is not a language, or two codes that mean the same language.
    """
    ids = [iso_code(code) for code in whisper_codes]
    twice = sorted({x for x in ids if ids.count(x) > 1})
    if twice:
        raise ValueError(f"the expert's languages name {twice} more than once")
    return [Label(id=x, name=language_name(x)) for x in sorted({*ids, NO_VOCALS})]


def whisper_codes(folder: Path) -> list[str]:
    """The expert's language codes, in its own order: ``config.json``'s ``lang_ids`` read through
    ``tokenizer.json`` (each a token ``<|xx|>``).

    Raises:
        ExpertError: a file is missing or unreadable, or a language id is not a ``<|xx|>`` token.
    """
    try:
        lang_ids = json.loads((folder / "config.json").read_text(encoding="utf-8"))["lang_ids"]
        tokens = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))["added_tokens"]
        by_id = {int(t["id"]): str(t["content"]) for t in tokens}
        names = [by_id[int(i)] for i in lang_ids]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise ExpertError(f"{folder}: cannot read the expert's languages ({type(e).__name__}: {e})") from e
    bad = [n for n in names if not (n.startswith("<|") and n.endswith("|>"))]
    if bad:
        raise ExpertError(f"{folder}: language ids that are not language tokens: {bad[:5]}")
    return [n[2:-2] for n in names]
