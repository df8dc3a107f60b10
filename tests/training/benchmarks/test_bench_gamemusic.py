"""Game-music selection rules and an end-to-end build on a fake package tree."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import soundfile as sf

from training.benchmarks import gamemusic
from training.benchmarks.gamemusic import Track, decide
from training.benchmarks.soundtracks import Candidate

from .fakes import write_ogg


def track(
    source: str, credit: str | None, *, md5: str | None = None, seconds: float = 60.0, pkg: str = "p"
) -> Track:
    c = Candidate(pkg, source, (Path(source),), credit, "ARTIST", Path(source).stem)
    return Track(c, md5 or f"md5-{pkg}-{source}", seconds)


def statuses(tracks: list[Track], **kwargs: float) -> list[tuple[str, str]]:
    return [(d.artist, d.status) for d in decide(tracks, **kwargs)]  # type: ignore[arg-type]


def test_composer_needs_three_long_tracks() -> None:
    tracks = [
        track("a1", "Ann"),
        track("a2", "Ann"),
        track("a3", "Ann", seconds=29.9),  # too short: Ann is left with 2
        track("b1", "Bob"),
        track("b2", "Bob"),
        track("b3", "Bob"),
    ]
    assert statuses(tracks) == [
        ("Ann", "composer_lt3"),
        ("Ann", "composer_lt3"),
        ("Ann", "short"),
        ("Bob", "ok"),
        ("Bob", "ok"),
        ("Bob", "ok"),
    ]
    assert [s for _, s in statuses(tracks, min_tracks=2)][:2] == ["ok", "ok"]


def test_aliases_pool_tracks_of_one_person() -> None:
    tracks = [track("1", "0zone0ne"), track("2", "Ozoneone"), track("3", "Max Freeman")]
    assert statuses(tracks) == [("Max Freeman", "ok")] * 3


def test_byte_identical_tracks_are_kept_once_preferring_a_credited_copy() -> None:
    tracks = [
        track("x", None, md5="same", pkg="first"),
        track("y", "Cy", md5="same", pkg="second"),
        track("z", "Cy", md5="same", pkg="third"),
        track("c2", "Cy"),
        track("c3", "Cy"),
    ]
    assert statuses(tracks) == [
        ("", "duplicate"),
        ("Cy", "ok"),
        ("Cy", "duplicate"),
        ("Cy", "ok"),
        ("Cy", "ok"),
    ]


def test_co_composed_and_uncredited_tracks_are_dropped() -> None:
    tracks = [track("1", "Krobonil & OzoneOne"), track("2", None), track("3", "")]
    assert statuses(tracks) == [
        ("Chris Leutwyler & Max Freeman", "collab"),
        ("", "no_label"),
        ("", "no_label"),
    ]


def _fake_packages(root: Path) -> dict[str, Path]:
    """Three packages exercising aliases, a duplicate, a short track, a collab and a mixed song."""
    wes = root / "wesnoth-1.16-music"
    music = wes / "usr/share/games/wesnoth/1.16/data/core/music"
    write_ogg(music / "loyalists.ogg", 3, artist="Joseph G. Toscano (Zhaytee)", freq=300)
    write_ogg(music / "revelation.ogg", 3, artist="Joseph G. Toscano (Zhaytee)", freq=350)
    write_ogg(music / "defeat.ogg", 0.5, artist="Joseph G. Toscano (Zhaytee)")  # short
    write_ogg(music / "lonely.ogg", 3, artist="Lonely Composer")
    tux = root / "supertux-data"
    retro = tux / "usr/share/games/supertux2/music/retro"
    write_ogg(retro / "ice_music.ogg", 3, artist="http://zhaymusic.com/", freq=500)
    shutil.copy(music / "loyalists.ogg", retro / "copy_of_loyalists.ogg")  # byte-identical: dropped
    stk = root / "supertuxkart-data"
    data = stk / "usr/share/games/supertuxkart/data"
    write_ogg(data / "music/celtic.ogg", 3)
    write_ogg(data / "music/celtic_fast.ogg", 3)
    (data / "music/celtic.music").write_text(
        '<music title="Celtic" composer="Ozoneone and Krobonil"'
        ' file="celtic.ogg" fast-filename="celtic_fast.ogg"/>'
    )
    fof = root / "fretsonfire-songs-sectoid"
    for i, name in enumerate(["Escape", "Feelings", "War of freedom"]):
        song = fof / "usr/share/games/fretsonfire/data/songs/sectoid" / name
        write_ogg(song / "song.ogg", 2, freq=200 + 50 * i)
        write_ogg(song / "guitar.ogg", 3, freq=600)  # longer stem: the mix lasts 3 s
        (song / "song.ini").write_text(f"[song]\nname = {name}\nartist = Composed and performed by Sectoid\n")
    return {
        "wesnoth-1.16-music": wes,
        "supertux-data": tux,
        "supertuxkart-data": stk,
        "fretsonfire-songs-sectoid": fof,
    }


@pytest.fixture
def fake_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    roots = _fake_packages(tmp_path / "extract")
    monkeypatch.setattr(gamemusic, "fetch_packages", lambda packages, *, cache_dir: roots)
    return tmp_path / "cache"


def test_build_writes_manifest_and_audio(fake_build: Path) -> None:
    manifest = gamemusic.build(cache_dir=fake_build, jobs=1, min_duration_s=1.0)
    assert manifest == fake_build / "gamemusic" / "manifest.csv"
    rows = list(csv.DictReader(manifest.open()))
    assert list(rows[0]) == [
        "path",
        "artist",
        "language",
        "group",
        "soundtrack",
        "duration_s",
        "source",
        "md5",
    ]
    by_artist: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_artist.setdefault(r["artist"], []).append(r)
    assert sorted(by_artist) == ["Joseph G. Toscano", "Sectoid"]
    assert {r["soundtrack"] for r in by_artist["Joseph G. Toscano"]} == {
        "wesnoth-1.16-music",
        "supertux-data",
    }
    assert {r["language"] for r in rows} == {"zxx"}
    for r in rows:
        info = sf.info(str(manifest.parent / r["path"]))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert float(r["duration_s"]) == pytest.approx(info.duration, abs=0.01)
    assert [float(r["duration_s"]) for r in by_artist["Sectoid"]] == [pytest.approx(3.0, abs=0.01)] * 3
    assert {r["group"] for r in by_artist["Sectoid"]} == {
        "fretsonfire-songs-sectoid:escape",
        "fretsonfire-songs-sectoid:feelings",
        "fretsonfire-songs-sectoid:war of freedom",
    }
    candidates = {
        r["source"].rsplit("/", 1)[-1]: r for r in csv.DictReader((manifest.parent / "candidates.csv").open())
    }
    assert candidates["copy_of_loyalists.ogg"]["status"] == "duplicate"
    assert candidates["defeat.ogg"]["status"] == "short"
    assert candidates["lonely.ogg"]["status"] == "composer_lt3"
    assert candidates["celtic.ogg"]["status"] == "collab"
    assert "celtic_fast.ogg" not in candidates


def test_tracks_left_out_for_their_credit_are_kept_apart_as_outsiders(fake_build: Path) -> None:
    manifest = gamemusic.build(cache_dir=fake_build, jobs=1, min_duration_s=1.0)
    outsiders = list(csv.DictReader((manifest.parent / "outsiders.csv").open()))
    by_source = {r["source"].rsplit("/", 1)[-1]: r for r in outsiders}
    assert sorted(by_source) == ["celtic.ogg", "lonely.ogg"]  # not the short track, nor the duplicate
    assert (by_source["lonely.ogg"]["artist"], by_source["lonely.ogg"]["status"]) == (
        "Lonely Composer",
        "composer_lt3",
    )
    assert by_source["celtic.ogg"]["status"] == "collab"
    trained = {r["path"] for r in csv.DictReader(manifest.open())}
    assert trained.isdisjoint(r["path"] for r in outsiders)
    for r in outsiders:
        assert sf.info(str(manifest.parent / r["path"])).samplerate == 16000


def test_rebuild_reuses_converted_files(fake_build: Path) -> None:
    manifest = gamemusic.build(cache_dir=fake_build, jobs=1, min_duration_s=1.0)
    files = {p: p.stat().st_mtime_ns for p in (manifest.parent / "audio").rglob("*.flac")}
    first = manifest.read_text()
    assert gamemusic.build(cache_dir=fake_build, jobs=2, min_duration_s=1.0).read_text() == first
    assert {p: p.stat().st_mtime_ns for p in (manifest.parent / "audio").rglob("*.flac")} == files


@pytest.mark.parametrize(
    ("package", "language"), [("fretsonfire-songs-muldjord", ""), ("wesnoth-1.16-music", "zxx")]
)
def test_a_soundtrack_with_vocals_carries_no_language(package: str, language: str) -> None:
    candidate = Candidate(package, "songs/a/song.ogg", (Path("song.ogg"),), "X", "song.ini", "a")
    row = gamemusic._row(gamemusic.Decision(Track(candidate, "0" * 32, 60.0), "X", "ok"), 60.0)
    assert row["language"] == language
