"""The enrolment study's folds and figures, on synthetic embeddings where the answer is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.catalog import Song
from training.studies.enrolment import KS, POOL, FoldSongs, measure
from training.studies.enrolment_report import render


def _songs(artist: str, n: int, start: int) -> list[Song]:
    return [
        Song(f"{artist}{start + i}", Path(f"{artist}{i}.flac"), {"artist": artist}, f"{artist}{i}")
        for i in range(n)
    ]


def _fold() -> tuple[FoldSongs, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    directions = {a: rng.standard_normal(16) * 5 for a in ("t1", "t2", "t3", "new", "stranger")}
    train = [s for a in ("t1", "t2", "t3") for s in _songs(a, 6, 0)]
    val = [s for a in ("t1", "t2", "t3") for s in _songs(a, 2, 10)]
    test = [s for a in ("t1", "t2", "t3") for s in _songs(a, 2, 20)]
    pool, queries = _songs("new", POOL, 0), _songs("new", 4, 10)
    impostors = _songs("stranger", 3, 0)
    songs = train + val + test + pool + queries + impostors
    vectors = {s.song_id: directions[s.labels["artist"]] + rng.standard_normal(16) * 0.3 for s in songs}
    return FoldSongs(0, train, val, test, {"new": pool}, queries, impostors), vectors


def test_an_enrolled_artist_far_from_the_others_is_found_at_every_k() -> None:
    data, vectors = _fold()
    figures = measure(data, vectors, standardise=False)
    for k in KS:
        assert figures[f"k{k}"]["query_top1"] == 1.0
        assert figures[f"k{k}"]["known_test_top1"] == 1.0
        assert figures[f"k{k}"]["query_accepted_right"] >= 0.75
    assert -1.0 <= figures["threshold"] <= 1.0


def test_the_report_pools_the_folds_and_judges_the_target() -> None:
    data, vectors = _fold()
    figures = measure(data, vectors, standardise=True)
    record = {
        "fold": 0,
        "enrolled": {"new": POOL},
        "songs": {"queries": 4, "impostors": 3, "known_test": 6},
        "cnn": figures,
        "baseline": figures,
        "upper": {"query_top1": 1.0},
        "wall_s": 60.0,
    }
    text = render([record, {**record, "fold": 1}])
    assert "CNN embedding at\nk = 3: 1.000 = 1.00 of 1.000: met" in text
    assert "- fold1: enrolled new (5)" in text


def test_the_study_needs_the_open_set_study_first(tmp_path: Path) -> None:
    import pytest

    from training.studies.enrolment import study
    from training.studies.paths import StudyPaths

    paths = StudyPaths(tmp_path / "b", tmp_path / "c", tmp_path / "runs", tmp_path / "records")
    with pytest.raises(FileNotFoundError, match="run `songid openset-study` first"):
        study(paths, tmp_path / "out")
    assert not (tmp_path / "out").exists()
