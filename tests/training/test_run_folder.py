"""The training run folder: its layout, its labels in the shared schema, finished runs, faults named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from frontend.labels import LabelsError
from tests.conftest import write_catalog
from training.catalog import load_catalog
from training.config import TrainConfig
from training.prepare import prepare
from training.run_folder import RunFolder, RunFolderError, confusion_file, curves_file, songs_by_split
from training.split import write_split

ROOT = Path(__file__).resolve().parents[2]


def test_the_layout_names_every_file_of_a_run(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    names = {
        run.config: "config.json",
        run.labels: "labels.json",
        run.split: "split.json",
        run.model: "model.keras",
        run.history: "history.csv",
        run.tensorboard: "tensorboard",
        run.backup: "backup",
        run.eval_dir: "eval",
    }
    assert all(path == run.path / name for path, name in names.items())
    assert run.metrics == run.path / "eval" / "metrics.json"
    assert (curves_file("artist"), confusion_file("language")) == (
        "curves_artist_segment.png",
        "confusion_language_song.png",
    )


def test_labels_round_trip_in_the_shared_schema(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    space = {"language": ["fr", "en"], "artist": ["Zoë", "ann"]}
    run.write_labels(space)
    document = json.loads(run.labels.read_text(encoding="utf-8"))
    assert document == {
        "tasks": {
            "language": [{"id": "fr", "name": "fr"}, {"id": "en", "name": "en"}],
            "artist": [{"id": "Zoë", "name": "Zoë"}, {"id": "ann", "name": "ann"}],
        }
    }
    assert run.read_labels() == space
    assert list(run.read_labels()) == ["language", "artist"]  # the heads' order is kept


def test_labels_of_a_run_written_before_the_shared_schema_still_read(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    run.labels.write_text(json.dumps({"artist": ["ann", "bo"], "language": ["en"]}), encoding="utf-8")
    assert run.read_labels() == {"artist": ["ann", "bo"], "language": ["en"]}


@pytest.mark.parametrize(
    ("content", "fault"),
    [(None, "missing"), ("{not json", "not readable JSON"), ('{"tasks": {"artist": []}}', "no labels")],
)
def test_bad_labels_are_refused_naming_the_file(tmp_path: Path, content: str | None, fault: str) -> None:
    run = RunFolder(tmp_path)
    if content is not None:
        run.labels.write_text(content, encoding="utf-8")
    with pytest.raises(LabelsError, match=fault) as error:
        run.read_labels()
    assert str(run.labels) in str(error.value)


def test_config_round_trips(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    config = TrainConfig(tasks=("artist",), epochs=3, notes={"data": "x"})
    run.write_config(config)
    assert run.read_config() == config


@pytest.mark.parametrize(
    ("content", "fault"),
    [
        (None, "missing"),
        ("{not json", "not readable JSON"),
        ('{"tasks": []}', "not a training configuration"),
        ("[1, 2]", "not a training configuration"),
    ],
)
def test_a_bad_config_is_refused_naming_the_file(tmp_path: Path, content: str | None, fault: str) -> None:
    run = RunFolder(tmp_path)
    if content is not None:
        run.config.write_text(content, encoding="utf-8")
    with pytest.raises(RunFolderError, match=fault) as error:
        run.read_config()
    assert str(run.config) in str(error.value)
    assert isinstance(error.value, ValueError)  # the command line reports it as an error, no traceback


def test_a_run_is_finished_once_its_metrics_are_written(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    assert not run.is_trained and not run.is_finished
    with pytest.raises(RunFolderError, match="has not finished") as error:
        run.read_metrics()
    assert str(run.metrics) in str(error.value)
    run.path.mkdir()
    run.model.write_bytes(b"weights")
    assert run.is_trained and not run.is_finished
    metrics = {"split": "test", "n_songs": 3, "tasks": {}}
    run.write_metrics(metrics)
    assert run.is_finished and run.read_metrics() == metrics
    assert sorted(p.name for p in run.eval_dir.iterdir()) == ["metrics.json"]  # no temporary left


@pytest.mark.parametrize(("content", "fault"), [("{half", "not readable JSON"), ("[1]", "a JSON object")])
def test_bad_metrics_are_refused_naming_the_file(tmp_path: Path, content: str, fault: str) -> None:
    run = RunFolder(tmp_path)
    run.eval_dir.mkdir()
    run.metrics.write_text(content, encoding="utf-8")
    with pytest.raises(RunFolderError, match=fault) as error:
        run.read_metrics()
    assert str(run.metrics) in str(error.value)


def test_songs_by_split_follows_the_split_file(tmp_path: Path) -> None:
    write_catalog(tmp_path / "data", songs_per_artist=1)
    songs = load_catalog(tmp_path / "data")
    prepare(songs, tmp_path / "cache", jobs=1, max_duration_s=1.0)
    roles = ("train", "val", "test", "exposure")
    assignment = {s.song_id: roles[k % 4] for k, s in enumerate(songs)}
    run = RunFolder(tmp_path / "run")
    write_split(run.split, assignment)
    splits = run.songs_by_split(tmp_path / "cache")
    assert list(splits) == list(roles)
    assert {k: sorted(s.song_id for s in v) for k, v in splits.items()} == {
        k: sorted(i for i, v in assignment.items() if v == k) for k in roles
    }
    assert splits == songs_by_split(tmp_path / "cache", run.split)


def test_reading_a_run_folder_imports_no_tensorflow() -> None:
    code = (
        "import sys, training.run_folder\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(heavy[:5])\n"
        "raise SystemExit(1 if heavy else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"training.run_folder imported {done.stdout.strip()} {done.stderr[-2000:]}"
