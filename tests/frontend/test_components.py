"""The model folder's components: roles, files pinned by SHA-256, provenance, the gallery's task."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from frontend.artifact import ArtifactError, load_artifact
from frontend.components import (
    COMPONENTS_FILE,
    Component,
    ComponentError,
    Components,
    Provenance,
    sha256_file,
)
from frontend.model_folder import write_components

BUNDLED = Path(__file__).resolve().parents[2] / "models" / "songid-multitask"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the bundled model folder (its files are small: the ONNX is under 1 MB)."""
    return Path(
        shutil.copytree(BUNDLED, tmp_path / "songid-multitask", ignore=shutil.ignore_patterns("expert"))
    )


def test_the_bundled_folder_lists_its_network_with_provenance_and_the_gallery_task() -> None:
    artifact = load_artifact(BUNDLED)
    network = artifact.components.one("task_heads")
    assert network.files == {f"{artifact.version}/model.onnx": sha256_file(artifact.onnx_path)}
    assert network.signature == "signature.json"
    assert network.provenance.licence and network.provenance.training_data
    assert artifact.gallery_task == artifact.components.gallery_task == "artist"


def test_a_tampered_file_is_refused_naming_the_file_and_both_hashes(folder: Path) -> None:
    onnx = load_artifact(folder).onnx_path
    pinned = sha256_file(onnx)
    onnx.write_bytes(onnx.read_bytes() + b"\0")
    with pytest.raises(
        ArtifactError, match=rf"model\.onnx: sha256 {sha256_file(onnx)} is not the pinned {pinned}"
    ):
        load_artifact(folder)


def test_a_missing_file_is_refused_naming_it(folder: Path) -> None:
    document = json.loads((folder / COMPONENTS_FILE).read_text())
    document["components"][0]["files"]["5/vocab.txt"] = "0" * 64
    (folder / COMPONENTS_FILE).write_text(json.dumps(document))
    with pytest.raises(ArtifactError, match=r"vocab\.txt: missing \(component 'multitask'"):
        load_artifact(folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["components"][0].update(role="oracle"), "role must be one of"),
        (lambda d: d["components"][0]["files"].update({"../../etc/passwd": "0"}), "outside the folder"),
        (lambda d: d["components"].append(dict(d["components"][0])), "names must be distinct"),
        (lambda d: d["components"][0].pop("provenance"), "expected"),
        (lambda d: d.update(gallery_task=3), "gallery_task must be"),
    ],
)
def test_a_malformed_document_is_refused_naming_the_file(folder: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    document = json.loads((folder / COMPONENTS_FILE).read_text())
    change(document)
    (folder / COMPONENTS_FILE).write_text(json.dumps(document))
    with pytest.raises(ArtifactError, match=message) as caught:
        load_artifact(folder)
    assert COMPONENTS_FILE in str(caught.value) or "outside" in str(caught.value)


def test_a_folder_from_before_components_json_reads_as_its_one_network(folder: Path) -> None:
    (folder / COMPONENTS_FILE).unlink()
    artifact = load_artifact(folder)
    assert [c.role for c in artifact.components.components] == ["task_heads"]
    assert artifact.gallery_task == "artist"  # centroids.json served the artist head
    assert artifact.components.one("task_heads").provenance.source.startswith("not recorded")


def test_the_gallery_task_is_the_folders_not_a_literal(folder: Path) -> None:
    artifact = load_artifact(folder)
    network = artifact.components.one("task_heads")
    write_components(folder, Components((network,), None))
    assert load_artifact(folder).gallery_task is None  # no gallery, though centroids.json is there
    with pytest.raises(ArtifactError, match=r"centroids\.json"):
        write_components(folder, Components((network,), "language"))  # centroids are the artists'


def test_one_role_lookup_says_what_it_found() -> None:
    nothing = Provenance("s", "MIT", "d")
    a = Component("a", "embedding", {"a.onnx": "0"}, nothing)
    b = Component("b", "embedding", {"b.onnx": "0"}, nothing)
    with pytest.raises(ComponentError, match=r"one component of role 'embedding', found \['a', 'b'\]"):
        Components((a, b)).one("embedding")
    assert Components((a, b)).by_role("language_expert") == []


def _with_optional_expert(folder: Path) -> dict[str, str]:
    """List an optional expert of two files (not written) in the folder's components.json."""
    document = json.loads((folder / COMPONENTS_FILE).read_text())
    files = {"extra/model.bin": sha256_file_of(b"weights"), "extra/config.json": sha256_file_of(b"{}")}
    document["components"].append(
        {
            "name": "extra",
            "role": "language_expert",
            "files": files,
            "optional": True,
            "settings": {"gate": {"voice_threshold": 0.5}},
            "provenance": {"source": "s", "licence": "MIT", "training_data": "d"},
        }
    )
    (folder / COMPONENTS_FILE).write_text(json.dumps(document))
    return files


def sha256_file_of(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_an_optional_component_may_be_absent_but_never_partial_or_changed(folder: Path) -> None:
    _with_optional_expert(folder)
    artifact = load_artifact(folder)
    assert "extra" in artifact.absent and "extra" not in [c.name for c in artifact.present("language_expert")]
    assert artifact.components.by_role("language_expert")[-1].settings == {"gate": {"voice_threshold": 0.5}}
    (folder / "extra").mkdir()
    (folder / "extra" / "model.bin").write_bytes(b"weights")
    with pytest.raises(ArtifactError, match=r"config\.json: missing \(component 'extra'"):
        load_artifact(folder)  # half obtained: refused, not served without it
    (folder / "extra" / "config.json").write_bytes(b"{}")
    assert "extra" in [c.name for c in load_artifact(folder).present("language_expert")]
    (folder / "extra" / "model.bin").write_bytes(b"tampered")
    with pytest.raises(ArtifactError, match=r"model\.bin: sha256 .* is not the pinned"):
        load_artifact(folder)
