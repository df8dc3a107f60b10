"""The open-set study's folds, splits, resumable runs and report, with a stand-in runner."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import tone, write_audio
from training.catalog import Song
from training.split import EXPOSURE
from training.studies.openset import (
    StudyRun,
    gamemusic_folds,
    study,
    study_split,
)
from training.studies.openset_report import render
from training.studies.paths import StudyPaths
from training.studies.records import read_records


def _song(i: int, artist: str) -> Song:
    return Song(f"s{i}", Path(f"{i}.flac"), {"artist": artist, "language": "zxx"}, f"s{i}")


def test_composers_are_dealt_by_song_count_into_disjoint_folds() -> None:
    songs = [_song(i, a) for i, a in enumerate("AAAABBBCCDDE")]
    folds = gamemusic_folds(songs, 2)
    assert folds == [("A", "C", "E"), ("B", "D")]
    assert not set(folds[0]) & set(folds[1])


def test_held_out_artists_are_in_no_role_and_exposure_songs_only_in_exposure() -> None:
    songs = [_song(i, a) for i, a in enumerate("AAAAAAAAAABBBBBBBBBBCCCCC")]
    outside = [_song(100 + i, "Z") for i in range(3)]
    roles = study_split(songs, ("C",), outside, seed=0)
    assert not {s.song_id for s in songs if s.labels["artist"] == "C"} & set(roles)
    assert {roles[s.song_id] for s in outside} == {EXPOSURE}
    assert set(roles[s.song_id] for s in songs[:20]) == {"train", "val", "test"}


def _benchmark(root: Path) -> None:
    folder = root / "gamemusic"
    (folder / "audio").mkdir(parents=True)
    for name, artists in (("manifest.csv", "AAABBBCCCDDD"), ("outsiders.csv", "ZY")):
        with (folder / name).open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "artist", "language", "soundtrack"])
            for i, a in enumerate(artists):
                path = f"audio/{name[:3]}{i}.flac"
                write_audio(folder / path, tone(3.5, freq=200.0 + 20 * i), 16_000)
                w.writerow([path, a, "zxx", f"game{a}"])


FIGURES = {"auroc": 0.75, "threshold": 0.5, "false_rejects": 0.1, "false_accepts": 0.4, "accepted_top1": 0.8}


def _fake_run(run: StudyRun, songs: list[Song], exposure: list[Song], *, smoke: bool) -> dict[str, Any]:
    return {
        "songs": {"train": len(songs), "exposure": len(exposure)},
        "closed_set_song_top1": 0.5,
        "scores": {"max_probability": {**FIGURES, "score": "max_probability", "n_known": 2, "n_unknown": 6}},
        "no_evidence": {
            "items": 4,
            "known_with_gate": {"max_probability": 0},
            "known_without_gate": {"max_probability": 3},
        },
        "train": {},
    }


def test_the_study_runs_each_fold_and_recipe_once_and_resumes(tmp_path: Path) -> None:
    _benchmark(tmp_path / "benchmarks")
    paths = StudyPaths(tmp_path / "benchmarks", tmp_path / "cache", tmp_path / "runs", tmp_path / "records")
    calls: list[tuple[str, int]] = []

    def runner(run: StudyRun, songs: list[Song], exposure: list[Song], *, smoke: bool) -> dict[str, Any]:
        calls.append((run.key, len(exposure)))
        return _fake_run(run, songs, exposure, smoke=smoke)

    runs = study(["gamemusic"], [0], paths=paths, jobs=1, runner=runner)
    assert len(runs) == 4  # 2 folds x 2 recipes
    assert sorted(calls) == [
        ("gamemusic/outlier-exposure/fold0-seed0", 2),
        ("gamemusic/outlier-exposure/fold1-seed0", 2),
        ("gamemusic/paper/fold0-seed0", 0),
        ("gamemusic/paper/fold1-seed0", 0),
    ]
    study(["gamemusic"], [0], paths=paths, jobs=1, runner=runner)
    assert len(calls) == 4  # every record kept: nothing ran again

    report = render(read_records(paths.records), planned=6)
    assert "PARTIAL: 4 of 6 runs finished" in report
    assert "| `max_probability` | 0.750 | 10.0% | 40.0% | 0.800 | 0 / 6 of 8 |" in report
    assert "missed: AUROC 0.750 < 0.90; false accepts 40.0% > 20%" in report


def test_a_missing_benchmark_is_named(tmp_path: Path) -> None:
    paths = StudyPaths(tmp_path / "nothing", tmp_path / "cache", tmp_path / "runs", tmp_path / "records")
    with pytest.raises(FileNotFoundError, match="songid benchmark gamemusic"):
        study(["gamemusic"], [0], paths=paths, jobs=1, runner=_fake_run)


@pytest.mark.slow
def test_one_smoke_run_trains_exports_and_measures_every_score(tmp_path: Path) -> None:
    from training.studies.openset_run import measure_run

    folder = tmp_path / "benchmarks" / "gamemusic"
    (folder / "audio").mkdir(parents=True)
    for name, artists in (("manifest.csv", "ABCD" * 5), ("outsiders.csv", "Z")):
        with (folder / name).open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "artist", "language", "soundtrack"])
            for i, a in enumerate(artists):
                path = f"audio/{name[:3]}{i}.flac"
                write_audio(
                    folder / path, tone(7.0, freq=200.0 + 150 * "ABCDZ".index(a) + 5 * i, seed=i), 16_000
                )
                w.writerow([path, a, "zxx", f"game{i % 3}"])
    paths = StudyPaths(tmp_path / "benchmarks", tmp_path / "cache", tmp_path / "runs", tmp_path / "records")
    runs = study(["gamemusic"], [0], paths=paths, jobs=1, smoke=True, runner=measure_run)
    records = read_records(paths.records)
    assert len(records) == len(runs) == 4
    scores = {"max_probability", "centroid_cosine", "mahalanobis", "lda_cosine", "nearest_song"}
    for record in records:
        assert set(record["scores"]) == scores and record["smoke"] is True
        assert record["songs"]["unknown"] == 10 and record["no_evidence"]["items"] > 0
        assert all(0.0 <= f["auroc"] <= 1.0 for f in record["scores"].values())
