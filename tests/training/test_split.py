from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from training.catalog import Song
from training.split import read_split, split_songs, write_split


def _catalog(n_artists: int = 8, per_artist: int = 12) -> list[Song]:
    songs = []
    for a in range(n_artists):
        for k in range(per_artist):
            # pairs of songs share a group (an original and its remaster)
            songs.append(
                Song(
                    f"a{a}s{k}",
                    Path(f"{a}/{k}.flac"),
                    {"artist": f"a{a}", "language": "zxx"},
                    f"a{a}g{k // 2}",
                )
            )
    return songs


def test_every_song_in_exactly_one_split_and_groups_kept_whole() -> None:
    songs = _catalog()
    assignment = split_songs(songs, seed=0)
    assert set(assignment) == {s.song_id for s in songs}
    by_group: dict[str, set[str]] = {}
    for s in songs:
        by_group.setdefault(s.group, set()).add(assignment[s.song_id])
    assert all(len(v) == 1 for v in by_group.values())


def test_about_80_10_10_and_stratified_by_artist() -> None:
    songs = _catalog()
    counts = Counter(split_songs(songs, seed=1).values())
    assert counts["train"] / len(songs) == pytest.approx(0.8, abs=0.06)
    assert counts["test"] / len(songs) == pytest.approx(0.1, abs=0.05)
    assignment = split_songs(songs, seed=1)
    per_artist = Counter(s.labels["artist"] for s in songs if assignment[s.song_id] == "test")
    assert max(per_artist.values()) == 2  # one group of 2 per artist: spread, not one artist's songs


def test_seeded_and_different_across_seeds(tmp_path: Path) -> None:
    songs = _catalog()
    a = split_songs(songs, seed=3)
    assert a == split_songs(songs, seed=3)
    assert a != split_songs(songs, seed=4)
    write_split(tmp_path / "s.json", a, seed=3)
    assert read_split(tmp_path / "s.json") == a


def test_bad_split_files_and_arguments() -> None:
    with pytest.raises(ValueError, match="test and val"):
        split_songs(_catalog(), seed=0, test=0.6, val=0.5)
    with pytest.raises(ValueError, match="at least 3 songs"):
        split_songs(_catalog(1, 2), seed=0)
