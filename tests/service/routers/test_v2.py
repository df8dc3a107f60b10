"""The Open Inference Protocol (KServe v2 JSON): metadata, health, and mel tensors in, probabilities out."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from frontend.audio import INPUT_SHAPE, segments_from_audio
from service.app import create_app
from service.model import SongModel
from tests.service.conftest import make_settings
from tests.service.samples import encode

NAME = "songid-test"
INFER = f"/v2/models/{NAME}/infer"


def v2_client(model_repo: Path, model: SongModel, **overrides: Any) -> TestClient:
    app = create_app(make_settings(model_repo, **overrides), model=model)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(model_repo: Path, loaded_model: SongModel) -> Iterator[TestClient]:
    with v2_client(model_repo, loaded_model, max_upload_bytes=4 * 2**20) as started:
        yield started


@pytest.fixture(scope="module")
def mel() -> np.ndarray:
    """Three real log-mel segments, ``(3, 187, 96, 1)`` float32."""
    segments, _ = segments_from_audio(io.BytesIO(encode("flac", seconds=9.5)))
    return segments


def request_body(mel: np.ndarray, **extra: Any) -> dict[str, Any]:
    tensor = {"name": "mel", "shape": list(mel.shape), "datatype": "FP32", "data": mel.ravel().tolist()}
    return {"inputs": [tensor], **extra}


def error(response: Any) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def test_health_and_metadata(client: TestClient) -> None:
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get(f"/v2/models/{NAME}/ready").json() == {"ready": True}
    assert client.get(f"/v2/models/{NAME}/versions/1/ready").status_code == 200
    metadata = client.get(f"/v2/models/{NAME}").json()
    assert metadata == {
        "name": NAME,
        "versions": ["1"],
        "platform": "onnxruntime_onnx",
        "inputs": [{"name": "mel", "datatype": "FP32", "shape": [-1, 187, 96, 1]}],
        "outputs": [
            {"name": "artist", "datatype": "FP32", "shape": [-1, 4]},
            {"name": "language", "datatype": "FP32", "shape": [-1, 3]},
        ],
    }
    assert client.get(f"/v2/models/{NAME}/versions/1").json() == metadata


def test_not_ready_before_startup(model_repo: Path) -> None:
    unstarted = v2_client(model_repo, SongModel(model_repo, provider="cpu"))  # lifespan never ran
    assert unstarted.get("/v2/health/live").status_code == 200
    assert error(unstarted.get("/v2/health/ready"))[:2] == (503, "model_not_ready")
    assert unstarted.post(INFER, json={}).status_code == 503


def test_infer_answers_what_the_model_computes(
    client: TestClient, mel: np.ndarray, loaded_model: SongModel
) -> None:
    response = client.post(INFER, json=request_body(mel, id="req-7"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["model_name"], answer["model_version"], answer["id"]) == (NAME, "1", "req-7")
    expected = loaded_model.predict(mel)
    assert [o["name"] for o in answer["outputs"]] == ["artist", "language"]
    for output in answer["outputs"]:
        assert output["datatype"] == "FP32" and output["shape"] == [3, expected[output["name"]].shape[1]]
        got = np.asarray(output["data"], dtype=np.float32).reshape(output["shape"])
        np.testing.assert_array_equal(got, expected[output["name"]])  # float32 survives JSON exactly
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    assert client.app.state.admission.limiter.in_use == 0  # the concurrency slot was given back


def test_requested_outputs_and_versioned_route(client: TestClient, mel: np.ndarray) -> None:
    body = request_body(mel[:1], outputs=[{"name": "language"}])
    response = client.post(f"/v2/models/{NAME}/versions/1/infer", json=body)
    assert response.status_code == 200, response.text
    (output,) = response.json()["outputs"]
    assert output["name"] == "language" and output["shape"] == [1, 3]


def test_fp32_data_is_one_flat_list_of_numbers(client: TestClient, mel: np.ndarray) -> None:
    nested = request_body(mel[:1])
    nested["inputs"][0]["data"] = mel[:1].tolist()
    status, code, text = error(client.post(INFER, json=nested))
    assert (status, code) == (400, "invalid_input")
    assert "FP32 data must be one flat list of numbers, not nested lists" in text
    for bad, shown in ((True, "inputs.0.data.3"), ("0.5", "inputs.0.data.3"), ([0.5], "inputs.0.data.3")):
        body = request_body(mel[:1])
        body["inputs"][0]["data"][3] = bad
        status, code, text = error(client.post(INFER, json=body))
        assert (status, code) == (400, "invalid_input"), bad
        assert text.startswith(f"not an inference request: {shown}: Input should be a valid number"), text
        assert "FP32 data must be one flat list of numbers (no strings, booleans or nested lists)" in text


def bad_tensor(mel: np.ndarray, **changes: Any) -> dict[str, Any]:
    body = request_body(mel[:1])
    body["inputs"][0].update(changes)
    return body


@pytest.mark.parametrize(
    ("make_body", "message"),
    [
        (lambda m: {"inputs": []}, "not an inference request: inputs: List should have at least 1 item"),
        (lambda m: {"inputs": [{"name": "mel"}]}, "inputs.0.shape: Field required"),
        (lambda m: bad_tensor(m, name="audio"), "expected one input named 'mel', got ['audio']"),
        (lambda m: bad_tensor(m, datatype="INT32"), "datatype must be FP32, got 'INT32'"),
        (lambda m: bad_tensor(m, shape=[1, 96, 187, 1]), "shape must be [n, 187, 96, 1] with 1 <= n <= 64"),
        (lambda m: bad_tensor(m, shape=[65, *INPUT_SHAPE]), "got [65, 187, 96, 1]"),
        (lambda m: bad_tensor(m, data=[0.5] * 10), "needs 17952 values, got 10"),
        (lambda m: bad_tensor(m, data=["x"] * 17952), "one flat list of numbers, not strings"),
        (lambda m: {**request_body(m[:1]), "outputs": [{"name": "genre"}]}, "unknown output(s) ['genre']"),
    ],
)
def test_bad_requests_are_400_naming_the_problem(
    client: TestClient, mel: np.ndarray, make_body: Any, message: str
) -> None:
    status, code, text = error(client.post(INFER, json=make_body(mel)))
    assert (status, code) == (400, "invalid_input")
    assert message in text


def test_not_json_and_non_finite_values_are_refused(client: TestClient, mel: np.ndarray) -> None:
    headers = {"content-type": "application/json"}
    status, code, text = error(client.post(INFER, content=b"{not json", headers=headers))
    assert (status, code) == (400, "invalid_input") and "the body is not JSON" in text
    body = request_body(mel[:1])
    body["inputs"][0]["data"][5] = float("inf")
    status, code, text = error(client.post(INFER, content=json.dumps(body).encode(), headers=headers))
    assert (status, code) == (400, "invalid_input") and "data holds NaN or infinite values" in text


def test_unknown_model_or_version_is_404(client: TestClient, mel: np.ndarray) -> None:
    status, code, text = error(client.post("/v2/models/other/infer", json=request_body(mel[:1])))
    assert (status, code) == (404, "not_found")
    assert text == "no model 'other'; this server has 'songid-test' version 1"
    assert error(client.get(f"/v2/models/{NAME}/versions/2"))[:2] == (404, "not_found")
    assert client.get(f"/v2/models/{NAME}/versions/two").status_code == 422


def test_a_body_over_the_limit_is_413(client: TestClient, mel: np.ndarray) -> None:
    big = request_body(np.repeat(mel, 10, axis=0)[:30])  # about 10 MB of JSON
    status, code, text = error(client.post(INFER, json=big))
    assert (status, code) == (413, "payload_too_large")
    assert "exceeds the limit of 4194304 bytes" in text


def test_the_routes_are_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v2/models/{name}/infer", "/v2/health/ready", "/v2/models/{name}"} <= set(paths)
    body = paths["/v2/models/{name}/infer"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["inputs"]
