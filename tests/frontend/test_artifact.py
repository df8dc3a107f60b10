from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontend.artifact import ArtifactError, frontend_mismatches, load_artifact
from frontend.audio import FRONTEND_PARAMS


def _write_artifact(root: Path, *, versions: tuple[int, ...] = (1,), frontend: dict | None = None) -> Path:
    model = root / "demo"
    for v in versions:
        (model / str(v)).mkdir(parents=True)
        (model / str(v) / "model.onnx").write_bytes(b"onnx")
    labels = {
        "tasks": {
            "artist": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
            "language": [{"id": "en", "name": "English"}, {"id": "zxx", "name": "No linguistic content"}],
        }
    }
    (model / "labels.json").write_text(json.dumps(labels))
    (model / "frontend.json").write_text(json.dumps(frontend if frontend is not None else FRONTEND_PARAMS))
    (model / "config.pbtxt").write_text('name: "demo"\n')
    return model


def test_loads_labels_in_output_order_and_highest_version(tmp_path: Path) -> None:
    model = _write_artifact(tmp_path, versions=(1, 3, 2))
    art = load_artifact(tmp_path)  # a repository folder with one model resolves to it
    assert (art.name, art.version, art.root) == ("demo", 3, model)
    assert art.onnx_path == model / "3" / "model.onnx"
    assert art.tasks == ["artist", "language"]
    assert art.labels["language"][1].name == "No linguistic content"
    assert load_artifact(model, version=2).version == 2


def test_refuses_another_front_end_and_says_what_differs(tmp_path: Path) -> None:
    params = {**FRONTEND_PARAMS, "hop_length": 512, "n_mels": 128}
    _write_artifact(tmp_path, frontend=params)
    with pytest.raises(ArtifactError, match=r"frontend.json.*hop_length: artifact has 512, code has 256"):
        load_artifact(tmp_path)
    assert len(frontend_mismatches(params)) == 2
    assert frontend_mismatches({**FRONTEND_PARAMS, "extra": 1}) == ["extra: unknown to this code"]


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda m: (m / "labels.json").unlink(), "one model folder"),
        (lambda m: (m / "frontend.json").unlink(), r"frontend.json: missing"),
        (lambda m: (m / "labels.json").write_text("{not json"), r"labels.json: not readable JSON"),
        (
            lambda m: (m / "labels.json").write_text('{"tasks": {"artist": []}}'),
            "task .artist. has no labels",
        ),
        (lambda m: (m / "1" / "model.onnx").unlink(), "no <version>/model.onnx"),
    ],
)
def test_broken_artifacts_name_the_file(tmp_path: Path, breakage, message: str) -> None:
    breakage(_write_artifact(tmp_path))
    with pytest.raises(ArtifactError, match=message):
        load_artifact(tmp_path)


def test_missing_folder_and_unknown_version(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        load_artifact(tmp_path / "nope")
    with pytest.raises(ArtifactError, match="version 7 not found"):
        load_artifact(_write_artifact(tmp_path), version=7)
