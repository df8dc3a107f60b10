"""Credit cleaning, splitting into contributors and alias normalisation."""

from __future__ import annotations

import pytest

from training.benchmarks.names import canonical_name, clean_credit, name_key, split_credit, unify_spellings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Muldjord - www.muldjord.com", "Muldjord"),
        ("Composed and performed by Sectoid", "Sectoid"),
        ("2017 0zone0ne and Krobonil", "0zone0ne and Krobonil"),
        ("2016, 2022 GeekPenguinBR, Heuchi1", "GeekPenguinBR, Heuchi1"),
        ("Heuchi1 (contains material from NASA)", "Heuchi1"),
        ("Shawn Parrotte (http://www.shawnparrotte.com)", "Shawn Parrotte"),
        ("Alexandr Zhelanov <https://soundcloud.com/alexandr-zhelanov>", "Alexandr Zhelanov"),
        ("Keith Baylis aka Vim", "Keith Baylis"),
        ("Jason Lavall&#233;e", "Jason Lavallée"),
    ],
)
def test_clean_credit_strips_boilerplate(raw: str, expected: str) -> None:
    assert clean_credit(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0zone0ne", ["Max Freeman"]),
        ("Ozoneone", ["Max Freeman"]),
        ("Max Freeman", ["Max Freeman"]),
        ("Chris Leutwyler (Krobonil)", ["Chris Leutwyler"]),
        ("Krobonil", ["Chris Leutwyler"]),
        ("Joseph G. Toscano (Zhaytee)", ["Joseph G. Toscano"]),
        ("http://zhaymusic.com/", ["Joseph G. Toscano"]),
        ("http://opengameart.org, from bart", ["Bart Kelsey"]),
        ("Jason Lavallee", ["Jason Lavallée"]),
        ("Maxstack", ["Max McCracken"]),
    ],
)
def test_aliases_map_to_one_person(raw: str, expected: list[str]) -> None:
    assert split_credit(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "Ozoneone & Krobonil",
        "Krobonil & OzoneOne",
        "Chris Leutwyler & Max Freeman",
        "A and B",
        "A, B",
        "A feat. B",
    ],
)
def test_co_composed_credits_name_two_people(raw: str) -> None:
    assert len(split_credit(raw)) == 2


def test_same_person_twice_is_one_name() -> None:
    assert split_credit("0zone0ne and Max Freeman") == ["Max Freeman"]


@pytest.mark.parametrize("raw", [None, "", "   ", "http://example.org/", "2019"])
def test_no_usable_credit(raw: str | None) -> None:
    assert split_credit(raw) == []


def test_name_key_ignores_case_accents_and_punctuation() -> None:
    assert name_key("Jason Lavallée") == name_key("jason  LAVALLEE") == "jasonlavallee"
    assert canonical_name("Somebody New") == "Somebody New"


def test_unify_spellings_picks_most_frequent() -> None:
    mapping = unify_spellings(["Ann Lee", "Ann Lee", "ann lee", "Bob"])
    assert mapping == {"Ann Lee": "Ann Lee", "ann lee": "Ann Lee", "Bob": "Bob"}
