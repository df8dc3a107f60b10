"""The language study's plan: who is held out, what trains, and the figures it reports."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import tone, write_audio
from tests.training.study_songs import song, study_songs
from training.studies.language import (
    MIXED,
    SUNG,
    fold_split,
    held_out_voices,
    societies_split,
    source_of,
    study,
)
from training.studies.language_report import render
from training.studies.language_run import language_figures, measured_sets
from training.studies.paths import StudyPaths
from training.studies.records import read_records


def test_the_source_is_the_benchmark_folder() -> None:
    assert source_of(song(1, "tuxpaint")) == "tuxpaint"


def test_each_fold_holds_out_one_named_voice_of_every_language_with_two() -> None:
    songs = study_songs()
    assert held_out_voices(songs.speech, 0) == ("asterisk-es", "gcompris-fr-a")
    assert held_out_voices(songs.speech, 1) == ("gcompris-es-c", "gcompris-fr-b")
    assert held_out_voices(songs.speech, 2) == ("gcompris-es-d",)  # never the unattributed folder
    with pytest.raises(ValueError, match="fold 3"):
        fold_split(songs, 3, seed=0, recipe=MIXED)


def test_a_fold_trains_no_held_out_speaker_no_test_society_and_no_unknown_singing() -> None:
    songs = study_songs()
    assignment, held_out = fold_split(songs, 0, seed=0, recipe=MIXED)
    for s in songs.speech:
        assert (assignment[s.song_id] == "test") == (s.labels["voice"] in held_out)
    trained_societies = {
        s.labels["society"] for s in songs.known_singing() if assignment[s.song_id] != "test"
    }
    tested_societies = {s.labels["society"] for s in songs.known_singing() if assignment[s.song_id] == "test"}
    assert len(tested_societies) == 3 and not trained_societies & tested_societies
    assert all(s.song_id not in assignment for s in songs.singing if s not in songs.known_singing())
    sets = measured_sets(songs, assignment, held_out, seed=0)
    assert [len(sets[k]) for k in ("unseen_speaker", "singing_dplace", "singing_muldjord")] == [12, 6, 1]
    assert {s.labels["language"] for s in sets["singing_known_language"]} == {"es"}
    outside = [s for s in songs.excerpts() if s.labels["language"] not in songs.labels]
    exposed, _ = fold_split(songs, 0, seed=0, recipe=SUNG)  # the other singing of training societies
    assert all(exposed.get(s.song_id) in (None, "exposure") for s in outside)  # never in a label space
    assert {s.labels["language"] for s in songs.excerpts() if exposed.get(s.song_id) == "exposure"} <= {
        "wole1240"
    }
    assert {k: v for k, v in exposed.items() if v != "exposure"} == assignment
    assert societies_split(songs.excerpts(), songs.labels, seed=0) == societies_split(
        songs.excerpts(), songs.labels, seed=0
    )


def test_language_figures_against_majority_and_chance() -> None:
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])
    figures = language_figures(probs, ["es", "es", "fr", "fr"], ["es", "fr", "zxx"])
    assert figures["top1"] == 0.25 and figures["macro_recall"] == 0.25
    assert figures["zxx_rate"] == 0.25 and figures["majority_rate"] == 0.5 and figures["chance"] == 0.5
    assert figures["answers"] == {"es": 2, "fr": 1, "zxx": 1}
    assert figures["served"] is None  # no rule asked


def test_served_figures_answer_unknown_under_the_rule_threshold() -> None:
    # top probabilities 0.9 (es, right), 0.7 (fr, wrong), 0.8 (zxx, wrong), 0.6 (es, wrong)
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])
    figures = language_figures(probs, ["es", "es", "fr", "fr"], ["es", "fr", "zxx"], threshold=0.75)
    assert figures["served"] == {"threshold": 0.75, "zxx_rate": 0.25, "unknown_rate": 0.5, "top1": 0.25}
    assert figures["zxx_rate"] == 0.25 and figures["top1"] == 0.25  # the closed-set figures unchanged
    stricter = language_figures(probs, ["es", "es", "fr", "fr"], ["es", "fr", "zxx"], threshold=0.85)
    assert stricter["served"]["zxx_rate"] == 0.0 and stricter["served"]["unknown_rate"] == 0.75


def test_the_report_gives_each_target_a_verdict() -> None:
    def figures(zxx: float, top1: float | None = None) -> dict[str, object]:
        return {
            "songs": 10,
            "zxx_rate": zxx,
            "top1": top1,
            "macro_recall": top1,
            "majority_rate": 0.3,
            "chance": 0.1,
            "per_language": {"es": {"songs": 10, "recall": top1 or 0.0}},
            "answers": {"zxx": 1},
        }

    sets = {
        "unseen_speaker": figures(0.1, 0.6),
        "instrumental": figures(0.97),
        "singing_dplace": figures(0.4),
        "singing_muldjord": figures(1.0),
        "singing_known_language": figures(0.4, 0.2),
    }
    record = {
        "key": "fold0-seed0",
        "held_out": ["v"],
        "labels": ["es", "zxx"],
        "cnn": sets,
        "baseline": sets,
        "songs": {"train": 5, "mixed_copies": 5},
        "train": {"epochs": 1, "wall_s": 60.0},
    }
    text = render([record], planned=2)
    assert "Runs: 1 of 2 planned" in text
    assert "D-PLACE 40.0 % (**missed**, by 30.0 points)" in text
    assert "97.0 % (met)" in text and "0.600 (met)" in text
    assert "As served" not in text  # a record from before the served figures: none invented

    def served(zxx: float, unknown: float, top1: float) -> dict[str, float]:
        return {"threshold": 0.5, "zxx_rate": zxx, "unknown_rate": unknown, "top1": top1}

    with_rule = {name: {**f, "served": served(0.05, 0.6, 0.45)} for name, f in sets.items()}
    with_rule["instrumental"]["served"] = served(0.9, 0.1, 0.0)
    text = render([{**record, "cnn": with_rule}], planned=1)
    assert (
        "As served (the open-set rule applied): D-PLACE singing answered zxx 5.0 % (met), unknown 60.0 %; "
        "instrumental zxx 90.0 % (**missed**, by 5.0 points); "
        "unseen-speaker top-1 0.450 (**missed**, by 0.050)."
    ) in text
    row = "| (b) D-PLACE singing, test societies | paper's CNN | 10 | 40.0 % |"
    assert row + " - | - | - | - | 5.0 % | 60.0 % | - |" in text


def _benchmarks(root: Path) -> None:
    """Six tiny manifests: two voices each of en and fr, music, one mix with vocals, sung excerpts."""
    rows: dict[str, list[dict[str, str]]] = {
        "voices": [
            {"artist": v, "language": v[:2], "voice": v}
            for v in ("en-a", "en-b", "fr-a", "fr-b")
            for _ in range(3)
        ],
        "tuxpaint": [{"language": "en", "voice": "tuxpaint-en"}],
        "fillets": [{"language": "fr", "voice": "fillets-fr"}],
        "gcompris": [{"language": "fr", "voice": "gcompris-fr-words-unattributed"}],
        "gamemusic": [{"artist": f"c{i % 2}", "language": "zxx", "soundtrack": "g"} for i in range(10)]
        + [{"artist": "Muldjord", "language": "zxx", "soundtrack": "fretsonfire-songs-muldjord"}],
        "dplace": [{"language": "en", "society": f"soc{i % 4}"} for i in range(6)]
        + [{"language": "wole1240", "society": f"w{i}"} for i in range(4)],
    }
    columns = ["path", "artist", "language", "voice", "soundtrack", "society"]
    for k, (name, songs) in enumerate(rows.items()):
        folder = root / name
        (folder / "audio").mkdir(parents=True)
        with (folder / "manifest.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            for i, song in enumerate(songs):
                path = f"audio/{name}{i}.flac"
                write_audio(folder / path, tone(4.0, freq=150.0 + 40 * k + 7 * i, seed=i), 16_000)
                writer.writerow({"path": path, "artist": "", **song})


@pytest.mark.slow
def test_one_smoke_run_trains_both_models_and_measures_every_test_set(tmp_path: Path) -> None:
    from training.studies.language_run import measure_run

    _benchmarks(tmp_path / "benchmarks")
    paths = StudyPaths(tmp_path / "benchmarks", tmp_path / "cache", tmp_path / "runs", tmp_path / "records")
    study([0], [0], recipes=(SUNG,), paths=paths, jobs=1, smoke=True, runner=measure_run)
    (record,) = read_records(paths.records)
    assert record["key"] == "sung/fold0-seed0" and record["recipe"] == "sung"
    assert record["held_out"] == ["en-a", "fillets-fr"] and record["labels"] == ["en", "fr", "zxx"]
    assert record["songs"]["unseen_speaker"] == 4 and record["songs"]["singing_muldjord"] == 1
    assert record["songs"]["mixed_copies"] > 0  # the training speech, mixed over training music
    for model in ("cnn", "baseline"):
        for figures in record[model].values():
            assert figures["songs"] == 0 or 0.0 <= figures["zxx_rate"] <= 1.0
    assert "Runs: 0 of 1 planned" in render([record], planned=1)  # a smoke run is no result


def test_the_command_offers_every_recipe_and_voiced_leaves_zxx_out_of_the_outlier_target() -> None:
    from training.cli.studies import RECIPE_NAMES
    from training.studies.language import RECIPES, VOICED, StudyRun

    assert tuple(RECIPES) == RECIPE_NAMES
    config = StudyRun(VOICED, 0, 0, StudyPaths()).config(smoke=False)
    assert (config.exposed_task, config.exposure_excludes, config.outlier_exposure) == (
        "language",
        ("zxx",),
        0.5,
    )


def test_report_only_rewrites_the_report_from_the_records_and_trains_nothing(tmp_path: Path) -> None:
    from training.cli.main import main

    out = tmp_path / "language.md"
    args = ["language-study", "--records", str(tmp_path / "none"), "--out", str(out), "--report-only"]
    assert main([*args, "--benchmarks", str(tmp_path / "missing")]) == 0
    assert "Runs: 0 of 6 planned" in out.read_text() and not (tmp_path / "missing").exists()


FIGURES = {
    "songs": 4,
    "zxx_rate": 0.25,
    "top1": 0.5,
    "macro_recall": 0.4,
    "majority_rate": 0.3,
    "chance": 0.1,
}


def test_the_card_section_gives_the_recipes_figures_and_refuses_a_recipe_without_runs() -> None:
    from training.studies.language_report import card_section

    record = {"recipe": "voiced", "cnn": {}}
    for name in (
        "unseen_speaker",
        "instrumental",
        "singing_dplace",
        "singing_muldjord",
        "singing_known_language",
    ):
        record["cnn"][name] = dict(FIGURES)
    text = card_section([record], "voiced", ["en", "fr", "zxx"])
    assert text.startswith("## Language\n- knows 2 languages (en, fr) and `zxx`")
    assert "song top-1 0.500 (majority rate 0.300, chance 0.100)" in text and "25.0 % of the D-PLACE" in text
    assert "as the service answers" not in text  # a record without served figures
    for name in record["cnn"]:
        record["cnn"][name]["served"] = {"threshold": 0.4, "zxx_rate": 0.05, "unknown_rate": 0.7, "top1": 0.3}
    served = card_section([record], "voiced", ["en", "fr", "zxx"])
    assert "real singing answered `zxx` 5.0 %, `unknown` 70.0 %" in served and "top-1 0.300" in served
    with pytest.raises(ValueError, match="no finished language-study run of recipe 'mixed'"):
        card_section([record], "mixed", ["en"])


def test_the_report_counts_the_runs_recorded_before_as_planned_once() -> None:
    from training.studies.language_report import planned_runs

    earlier = [
        {"recipe": "mixed", "fold": 0, "seed": 0},
        {"recipe": "sung", "fold": 1, "seed": 0},
        {"recipe": "sung", "fold": 0, "seed": 0, "smoke": True},  # no result
    ]
    assert planned_runs(["sung"], [1], [0], earlier) == 2  # its own run, already recorded, counts once
    assert planned_runs(["sung", "voiced"], [0, 1], [0], earlier) == 5
    assert planned_runs(["mixed"], [0], [0], []) == 1
