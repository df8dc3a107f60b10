"""A model folder whose network has an output beyond the task heads, served end to end.

Adding an output is a change to the model folder's signature alone: the model runs it, the
pipeline keeps it per segment, ``/v2`` lists and returns it, and ``/predict`` is unchanged.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from frontend.audio import N_MELS, segments_from_audio
from service.app import create_app
from service.limits import AnalysisLimits
from service.model import SongModel
from service.pipeline import Pipeline
from tests.service.conftest import make_settings, upload
from tests.service.samples import EMBEDDING, LABELS, encode, make_artifact


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("models")
    make_artifact(repo, embedding=True)
    return repo


@pytest.fixture(scope="module")
def model(repo: Path) -> SongModel:
    loaded = SongModel(repo, provider="cpu", intra_op_threads=1)
    loaded.load()
    return loaded


def test_the_pipeline_keeps_the_other_output_per_segment(model: SongModel) -> None:
    assert model.artifact.tasks == list(LABELS)
    analysis = Pipeline(model, AnalysisLimits()).analyse(io.BytesIO(encode("wav", seconds=6.5)))
    assert list(analysis.song_probs) == list(LABELS)
    embedding = analysis.segment_outputs[EMBEDDING.name]
    assert embedding.shape == (2, N_MELS)
    np.testing.assert_allclose(analysis.song_outputs[EMBEDDING.name], embedding.mean(axis=0), rtol=1e-6)


def test_predict_answers_the_heads_and_v2_serves_every_output(repo: Path, model: SongModel) -> None:
    with TestClient(create_app(make_settings(repo), model=model)) as client:
        predicted = upload(client, encode("wav", seconds=4.0))
        assert predicted.status_code == 200
        assert list(predicted.json()["predictions"]) == list(LABELS)
        metadata = client.get("/v2/models/songid-test").json()
        assert [o["name"] for o in metadata["outputs"]] == [*LABELS, EMBEDDING.name]
        assert metadata["outputs"][-1]["shape"] == [-1, N_MELS]
        mel, _ = segments_from_audio(io.BytesIO(encode("flac", seconds=6.5)))
        body = {
            "inputs": [
                {"name": "mel", "shape": list(mel.shape), "datatype": "FP32", "data": mel.ravel().tolist()}
            ],
            "outputs": [{"name": EMBEDDING.name}],
        }
        inferred = client.post("/v2/models/songid-test/infer", json=body)
    assert inferred.status_code == 200, inferred.text
    [output] = inferred.json()["outputs"]
    assert (output["name"], output["shape"]) == (EMBEDDING.name, [2, N_MELS])
    expected = mel.mean(axis=(1, 3)) - 2.0  # the sample network's embedding: the centred time-mean
    np.testing.assert_allclose(np.reshape(output["data"], (2, N_MELS)), expected, rtol=1e-4, atol=1e-4)
