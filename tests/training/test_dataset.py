"""Label encoding (partial labels, outliers) and per-song caps of the training sampler."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import write_catalog
from training.catalog import Song, load_catalog
from training.dataset import MASKED, OUTLIER, SongMels, label_space, sample_epoch, steps_per_epoch
from training.prepare import prepare


def _cached(tmp_path: Path) -> tuple[Path, list[Song]]:
    write_catalog(tmp_path / "data", songs_per_artist=1)
    songs = load_catalog(tmp_path / "data")
    prepare(songs, tmp_path / "cache", jobs=1)
    return tmp_path / "cache", songs


def test_an_empty_label_is_no_class_and_is_masked(tmp_path: Path) -> None:
    cache, songs = _cached(tmp_path)
    unlabelled = Song(songs[0].song_id, songs[0].path, {**songs[0].labels, "artist": ""}, songs[0].group)
    space = label_space([unlabelled, *songs[1:]], ("artist", "language"))
    assert "" not in space["artist"] and songs[0].labels["artist"] not in space["artist"]
    mels = SongMels.load(cache, [unlabelled, *songs[1:]], space)
    assert mels.labels["artist"][0] == MASKED
    assert (mels.labels["artist"][1:] >= 0).all() and (mels.labels["language"] >= 0).all()


def test_outliers_are_marked_for_one_task_and_keep_their_other_labels(tmp_path: Path) -> None:
    cache, songs = _cached(tmp_path)
    space = label_space(songs, ("artist", "language"))
    known = SongMels.load(cache, songs[:4], space)
    outliers = SongMels.load(cache, songs[4:], space, outliers_for="artist", cap=1)
    both = known + outliers
    assert list(both.labels["artist"][4:]) == [OUTLIER] * (len(songs) - 4)
    assert list(both.labels["language"][4:]) == [
        space["language"].index(s.labels["language"]) for s in songs[4:]
    ]
    assert both.caps == [None] * 4 + [1] * (len(songs) - 4)


def test_a_song_cap_bounds_its_segments_an_epoch(tmp_path: Path) -> None:
    cache, songs = _cached(tmp_path)
    space = label_space(songs, ("artist",))
    mels = SongMels.load(cache, songs[:1], space) + SongMels.load(cache, songs[1:2], space, cap=1)
    song_idx, _ = sample_epoch(mels, hop_frames=16, per_song=3, rng=np.random.default_rng(0))
    assert np.bincount(song_idx).tolist() == [3, 1]
    assert steps_per_epoch(mels, hop_frames=16, per_song=3, batch_size=2) == 2
