"""The composers benchmark: its package table, the held-out refusal, the new packages' credit
readers and the per-package summary, on synthetic package trees."""

from __future__ import annotations

import csv
from functools import partial
from pathlib import Path

import pytest

from training.benchmarks import composers, gamemusic
from training.benchmarks.build import BENCHMARKS
from training.benchmarks.composer_packages import (
    COMPOSER_SOUNDTRACKS,
    HELD_OUT,
    LEFT_OUT,
    NEW_SOUNDTRACKS,
    collect_stated,
)
from training.benchmarks.names import split_credit
from training.benchmarks.soundtracks import SOUNDTRACKS, collect_tagged

from .fakes import write_ogg

MUSIC = "usr/share/games/demo/music"


def test_the_table_starts_with_gamemusic_packages_and_names_no_held_out_package() -> None:
    assert list(COMPOSER_SOUNDTRACKS)[: len(SOUNDTRACKS)] == list(SOUNDTRACKS)
    assert not set(NEW_SOUNDTRACKS) & set(SOUNDTRACKS)
    assert not (set(COMPOSER_SOUNDTRACKS) | set(LEFT_OUT)) & HELD_OUT
    assert BENCHMARKS[composers.NAME] is composers.build


@pytest.mark.parametrize("package", sorted(HELD_OUT))
def test_a_held_out_package_is_refused_before_any_download(
    package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_download(packages: list[str], *, cache_dir: Path) -> dict[str, Path]:
        raise AssertionError(f"downloaded {packages}")

    monkeypatch.setattr(gamemusic, "fetch_packages", no_download)
    table = {**NEW_SOUNDTRACKS, package: partial(collect_tagged, patterns=("*.ogg",))}
    with pytest.raises(composers.HeldOutPackageError, match=package):
        composers.build(cache_dir=tmp_path, soundtracks=table)


def test_one_composer_stated_for_all_the_music(tmp_path: Path) -> None:
    write_ogg(tmp_path / "usr/share/pushover/themes/Aztec.ogg", 0.2)
    write_ogg(tmp_path / "usr/share/pushover/themes/Space.ogg", 0.2)
    found = NEW_SOUNDTRACKS["pushover-data"](tmp_path, "pushover-data")
    assert [(c.source, c.credit, c.work) for c in found] == [
        ("usr/share/pushover/themes/Aztec.ogg", "Roberto Lorenz", "aztec"),
        ("usr/share/pushover/themes/Space.ogg", "Roberto Lorenz", "space"),
    ]
    assert collect_stated(tmp_path, "p", patterns=("nothing/*.ogg",), composer="X", where="w") == []


def _copyright(root: Path, package: str, text: str) -> None:
    doc = root / "usr/share/doc" / package
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(text)


def test_a_team_named_by_the_copyright_file_is_not_a_composer(tmp_path: Path) -> None:
    write_ogg(tmp_path / MUSIC / "tagged.ogg", 0.2, artist="Tobias Escher")
    write_ogg(tmp_path / MUSIC / "untagged.ogg", 0.2)
    _copyright(tmp_path, "demo", "Files: music/*\nCopyright: Demo Team\nLicense: GPL-2+\n")
    credits = {
        c.source.rsplit("/", 1)[1]: c.credit
        for c in collect_tagged(tmp_path, "demo", patterns=(f"{MUSIC}/*.ogg",), use_copyright=False)
    }
    assert credits == {"tagged.ogg": "Tobias Escher", "untagged.ogg": None}
    with_copyright = collect_tagged(tmp_path, "demo", patterns=(f"{MUSIC}/*.ogg",))
    assert [c.credit for c in with_copyright] == ["Tobias Escher", "Demo Team"]


def test_a_per_file_copyright_stanza_credits_its_tracks_only(tmp_path: Path) -> None:
    write_ogg(tmp_path / MUSIC / "crazy.ogg", 0.2, artist="Someone Else")
    write_ogg(tmp_path / MUSIC / "other.ogg", 0.2)
    _copyright(
        tmp_path,
        "demo",
        "Files: *\nCopyright: Founder\n           Ann Music   music\nLicense: GPL-2+\n\n"
        "Files: music/crazy.ogg\nCopyright: 2007, Paul Leach\nLicense: Free\n",
    )
    found = collect_tagged(tmp_path, "demo", patterns=(f"{MUSIC}/*.ogg",), copyright_first=True)
    assert [(c.credit, c.credit_source) for c in found] == [("2007, Paul Leach", "copyright"), (None, "")]
    assert split_credit(found[0].credit) == ["Paul Leach"]


def test_a_misspelt_tag_joins_its_composer() -> None:
    assert split_credit("Matrin Linda") == split_credit("Martin Linda") == ["Martin Linda"]


def test_the_summary_says_what_each_package_gave_and_why_not_the_rest() -> None:
    rows = [
        {"soundtrack": "a", "artist": "Ann", "status": "ok", "duration_s": "1800.0"},
        {"soundtrack": "a", "artist": "Ann", "status": "ok", "duration_s": "1800.0"},
        {"soundtrack": "a", "artist": "", "status": "no_label", "duration_s": "60.0"},
        {"soundtrack": "a", "artist": "Bo", "status": "composer_lt3", "duration_s": "60.0"},
        {"soundtrack": "a", "artist": "Bo", "status": "composer_lt3", "duration_s": "60.0"},
    ]
    text = composers.package_summary(rows, packages=["a", "b"], left_out={"c": "MIDI only"})
    lines = text.splitlines()
    assert "| a | 5 | 2 | 1.00 | Ann | composer_lt3: 2, no_label: 1 |" in lines
    assert "| b | 0 | 0 | 0.00 | - | no candidate track found |" in lines
    assert "| **all** | | 2 | 1.00 | 1 composers | |" in lines
    assert "| c | MIDI only |" in lines


def test_build_writes_the_manifest_and_the_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "extract" / "davegnukem-data"
    for i in range(3):
        write_ogg(
            root / f"usr/share/games/davegnukem/music/em/t{i}.ogg",
            1.5,
            artist="Eric Matyas",
            freq=300 + 40 * i,
        )
    monkeypatch.setattr(gamemusic, "fetch_packages", lambda packages, *, cache_dir: {"davegnukem-data": root})
    table = {"davegnukem-data": NEW_SOUNDTRACKS["davegnukem-data"]}
    manifest = composers.build(cache_dir=tmp_path / "cache", jobs=1, soundtracks=table, min_duration_s=1.0)
    assert manifest == tmp_path / "cache" / "composers" / "manifest.csv"
    rows = list(csv.DictReader(manifest.open()))
    assert [(r["artist"], r["soundtrack"], r["language"]) for r in rows] == [
        ("Eric Matyas", "davegnukem-data", "zxx")
    ] * 3
    summary = (manifest.parent / composers.SUMMARY_FILE).read_text()
    assert "| davegnukem-data | 3 | 3 | 0.00 | Eric Matyas | - |" in summary


def test_a_nickname_in_quotes_is_dropped_by_its_alias() -> None:
    assert split_credit('Derek "JoJo" Stegall') == ["Derek Stegall"]
