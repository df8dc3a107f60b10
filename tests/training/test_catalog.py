from __future__ import annotations

from pathlib import Path

import pytest

from training.catalog import load_catalog


def test_folder_layout_gives_language_and_artist(tmp_path: Path) -> None:
    for rel in ["en/Ann/one.mp3", "en/Ann/two.flac", "hi/Raj/x.wav", "hi/Raj/notes.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    songs = load_catalog(tmp_path)
    assert [(s.labels["language"], s.labels["artist"], s.path.name) for s in songs] == [
        ("en", "Ann", "one.mp3"),
        ("en", "Ann", "two.flac"),
        ("hi", "Raj", "x.wav"),
    ]
    assert len({s.song_id for s in songs}) == 3


def test_csv_manifest_keeps_extra_labels_and_groups(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text(
        "path,artist,language,soundtrack,group\n"
        "audio/a.flac,Ann,zxx,gameA,g1\naudio/b.flac,Ann,zxx,gameA,g1\naudio/c.flac,Bo,zxx,gameB,\n"
    )
    songs = load_catalog(tmp_path / "m.csv")
    assert songs[0].path == tmp_path / "audio/a.flac"
    assert songs[0].labels == {"artist": "Ann", "language": "zxx", "soundtrack": "gameA"}
    assert songs[0].group == songs[1].group == "g1"
    assert songs[2].group == songs[2].song_id  # no group: the song is its own


def test_a_song_may_lack_one_label(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("path,artist,language\na.wav,,fr\nb.wav,Ann,\n")
    a, b = load_catalog(tmp_path / "m.csv")
    assert a.labels == {"artist": "", "language": "fr"}
    assert b.labels == {"artist": "Ann", "language": ""}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("path,artist\na.wav,Ann\n", r"missing column\(s\) \['language'\]"),
        ("path,artist,language\na.wav,,\n", r"m.csv:2: no label"),
        ("path,artist,language\n,Ann,en\n", "empty path"),
        ("path,artist,language\na.wav,Ann,en\na.wav,Ann,en\n", "more than once"),
        ("path,artist,language\n", "no audio files"),
    ],
)
def test_bad_manifests_say_where(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "m.csv").write_text(text)
    with pytest.raises(ValueError, match=message):
        load_catalog(tmp_path / "m.csv")


def test_neither_folder_nor_csv(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected a folder"):
        load_catalog(tmp_path / "x.txt")
