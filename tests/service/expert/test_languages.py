"""The language task's labels from the expert's languages: registry codes, CLDR names, zxx, no duplicates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip(
    "langcodes", reason="the expert's labels need the expert extra: pip install 'songid[expert]'"
)

from service.expert.languages import (
    NO_VOCALS,
    iso_code,
    language_labels,
    language_name,
    whisper_codes,
)
from service.expert.verify import ExpertError
from tests.service.expert.conftest import REAL_EXPERT


@pytest.mark.parametrize(
    ("whisper", "label", "name"),
    [
        ("en", "en", "English"),
        ("jw", "jv", "Javanese"),  # deprecated in the registry since 2001
        ("haw", "haw", "Hawaiian"),  # no ISO 639-1 code: stays three letters
        ("tl", "tl", "Tagalog"),  # a valid ISO 639-1 code, kept (CLDR alone would say fil)
        ("iw", "he", "Hebrew"),
    ],
)
def test_codes_and_names(whisper: str, label: str, name: str) -> None:
    assert iso_code(whisper) == label
    assert language_name(label) == name


def test_labels_are_sorted_unique_and_end_with_no_vocals() -> None:
    labels = language_labels(["zh", "jw", "en", "haw"])
    assert [x.id for x in labels] == ["en", "haw", "jv", "zh", "zxx"]
    assert labels[-1].name == "No linguistic content"
    assert language_labels(["en", "haw", "zh", "jw"]) == labels


def test_two_codes_for_one_language_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\['jv'\] more than once"):
        language_labels(["jw", "jv"])


@pytest.mark.parametrize("bad", ["english", "en-US", "", "qqqqq"])
def test_a_code_that_is_not_a_language_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a language code"):
        iso_code(bad)


def test_the_languages_are_read_from_config_and_tokenizer(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"lang_ids": [7, 5]}))
    tokens = [{"id": 5, "content": "<|en|>"}, {"id": 7, "content": "<|jw|>"}, {"id": 9, "content": "<|x|>"}]
    (tmp_path / "tokenizer.json").write_text(json.dumps({"added_tokens": tokens}))
    assert whisper_codes(tmp_path) == ["jw", "en"]


def test_a_language_id_without_its_token_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"lang_ids": [8]}))
    (tmp_path / "tokenizer.json").write_text(json.dumps({"added_tokens": []}))
    with pytest.raises(ExpertError, match="cannot read the expert's languages"):
        whisper_codes(tmp_path)


@pytest.mark.skipif(
    not (REAL_EXPERT / "model.bin").is_file(),
    reason=f"the verified expert folder is absent ({REAL_EXPERT}; songid-expert fetch --into it)",
)
def test_whisper_bases_99_languages_and_zxx() -> None:
    labels = language_labels(whisper_codes(REAL_EXPERT))
    ids = [x.id for x in labels]
    assert len(ids) == 100 == len(set(ids)) and NO_VOCALS in ids
    assert [x for x in ids if not re.fullmatch("[a-z]{2}", x)] == ["haw", "zxx"]
    assert all(x.name and not x.name.startswith("Unknown") for x in labels)
