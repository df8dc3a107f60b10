"""The model folder's components in the service: a language expert listed but not obtained."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from frontend.artifact import load_artifact
from frontend.components import Component, Components, Provenance
from frontend.model_folder import write_components
from service.app import create_app
from service.model import ModelLoadError, SongModel
from tests.service.conftest import make_settings
from tests.service.samples import make_artifact

EXPERT = Component(
    "whisper-base",
    "language_expert",
    {"expert/model.bin": "0" * 64, "expert/config.json": "1" * 64},
    Provenance("a test", "MIT", "nothing"),
    optional=True,
    settings={
        "gate": {"voice_threshold": 0.5, "windows": 1},
        "open_set": {"score": "max_probability", "threshold": 0.3},
    },
)


def _folder(tmp_path: Path, *extra: Component) -> Path:
    folder = make_artifact(tmp_path)
    network = load_artifact(folder).components.one("task_heads")
    write_components(folder, Components((network, *extra)))
    return tmp_path


def test_an_expert_not_obtained_leaves_the_service_ready_saying_so(tmp_path: Path, wav_bytes: bytes) -> None:
    repo = _folder(tmp_path, EXPERT)
    model = SongModel(repo, provider="cpu", intra_op_threads=1, inter_op_threads=1)
    model.load()
    assert model.language.state == "absent" and model.labels == model.head_labels
    with TestClient(create_app(make_settings(repo), model=model)) as client:
        ready = client.get("/readyz").json()
        assert ready["language_expert"] == {"state": "absent", "name": "whisper-base"}
        labels = client.get("/labels").json()
        assert labels["language_expert"]["state"] == "absent"
        assert labels["tasks"]["language"] == [
            {"id": x.id, "name": x.name} for x in model.head_labels["language"]
        ]
        answer = client.post("/predict?timeline=true", files={"file": ("a.wav", wav_bytes, "audio/wav")})
        assert answer.status_code == 200
        assert all(segment["voice"] is None for segment in answer.json()["timeline"])


def test_a_role_the_service_cannot_load_stops_the_start_naming_it(tmp_path: Path) -> None:
    oracle = Component(
        "oracle", "embedding", {"oracle.onnx": "0" * 64}, Provenance("s", "MIT", "d"), optional=True
    )
    repo = _folder(tmp_path, oracle)
    with pytest.raises(ModelLoadError, match=r"'oracle' \(embedding\) have roles this service cannot load"):
        SongModel(repo, provider="cpu").load()
