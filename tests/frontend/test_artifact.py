from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontend.artifact import ArtifactError, frontend_mismatches, load_artifact
from frontend.audio import FRONTEND_PARAMS
from frontend.components import Provenance
from frontend.labels import from_ids
from frontend.model_folder import write_model_folder
from frontend.signature import Signature, TensorSpec

PROVENANCE = Provenance("a test", "MIT", "nothing")


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


def test_a_folder_without_signature_reads_as_one_head_per_task(tmp_path: Path) -> None:
    art = load_artifact(_write_artifact(tmp_path))
    assert art.signature == Signature.for_heads(art.labels)
    assert art.tasks == ["artist", "language"]


def test_written_folder_loads_with_its_signature_and_other_outputs(tmp_path: Path) -> None:
    labels = from_ids({"artist": ["a", "b", "c"], "language": ["en", "zxx"]})
    signature = Signature.for_heads(labels, tensors=[TensorSpec("embedding", (480,))])
    config = tmp_path / "config.json"
    config.write_text('{"epochs": 2}')
    out = tmp_path / "models" / "demo"
    art = write_model_folder(
        out,
        version=2,
        onnx_model=b"onnx",
        labels=labels,
        signature=signature,
        training_config=config,
        metrics={"n_songs": 3},
        card="# demo\n",
        provenance=PROVENANCE,
        gallery_task="artist",
    )
    assert (art.name, art.version, art.tasks, art.signature) == ("demo", 2, ["artist", "language"], signature)
    assert art.metrics == {"n_songs": 3}
    assert json.loads((out / "training_config.json").read_text()) == {"epochs": 2}
    pbtxt = (out / "config.pbtxt").read_text()
    assert 'name: "embedding"' in pbtxt and "dims: [ 480 ]" in pbtxt and "dims: [ 187, 96, 1 ]" in pbtxt


def test_a_signature_that_disagrees_is_refused_by_writer_and_reader(tmp_path: Path) -> None:
    labels = from_ids({"artist": ["a", "b"], "language": ["en", "zxx"]})
    wrong = Signature.for_heads(from_ids({"artist": ["a", "b", "c"], "language": ["en", "zxx"]}))
    with pytest.raises(ArtifactError, match=r"head 'artist' has shape \[3\] but labels\.json lists 2"):
        write_model_folder(
            tmp_path / "demo",
            version=1,
            onnx_model=b"onnx",
            labels=labels,
            signature=wrong,
            training_config=tmp_path / "none.json",
            metrics={},
            card="",
            provenance=PROVENANCE,
            gallery_task=None,
        )
    assert not (tmp_path / "demo").exists()  # refused before anything was written
    model = _write_artifact(tmp_path)
    (model / "signature.json").write_text(json.dumps(wrong.document()))
    with pytest.raises(ArtifactError, match=r"signature\.json: head 'artist' has shape \[3\]"):
        load_artifact(model)
    (model / "signature.json").write_text('{"inputs": 3}')
    with pytest.raises(ArtifactError, match=r"signature\.json: expected"):
        load_artifact(model)
