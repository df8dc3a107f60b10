"""The one labels.json schema: round trip, the older run-folder form, and faults named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontend.labels import Label, LabelsError, from_ids, label_ids, read_labels, write_labels


def test_round_trip_keeps_task_and_label_order(tmp_path: Path) -> None:
    labels = {"language": [Label("fr", "French"), Label("en", "English")], "artist": [Label("b", "B")]}
    write_labels(tmp_path / "labels.json", labels)
    assert read_labels(tmp_path / "labels.json") == labels
    assert list(read_labels(tmp_path / "labels.json")) == ["language", "artist"]
    assert label_ids(labels) == {"language": ["fr", "en"], "artist": ["b"]}


def test_a_run_folder_written_before_the_shared_schema_still_reads(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text(json.dumps({"artist": ["x", "y"]}))
    assert read_labels(tmp_path / "labels.json") == from_ids({"artist": ["x", "y"]})


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"tasks": {"artist": [{"id": "a", "name": "A"}, {"id": "a", "name": "A again"}]}}, r"\['a'\] more"),
        ({"tasks": {}}, "no tasks"),
        ({"tasks": {"artist": [{"id": "a"}]}}, "expected"),
        ([1, 2], "expected"),
    ],
)
def test_faults_are_refused_naming_the_file(tmp_path: Path, document: object, message: str) -> None:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(document))
    with pytest.raises(LabelsError, match=message) as caught:
        read_labels(path)
    assert str(path) in str(caught.value)


def test_writing_duplicate_ids_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match="more than once"):
        write_labels(tmp_path / "labels.json", {"artist": [Label("a", "A"), Label("a", "B")]})
    assert not (tmp_path / "labels.json").exists()
