"""Hostile bodies and requests answered with a clear 4xx, never a 500, at sizes that run in seconds."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from frontend.audio import INPUT_SHAPE
from service.framing import FramingMiddleware
from service.oip import MAX_BODY_BYTES
from tests.service.conftest import AppFactory, upload

INFER = "/v2/models/songid-test/infer"
JSON = {"content-type": "application/json"}


def tensor_body(data: str, shape: list[int] | None = None) -> bytes:
    shape = shape or [1, *INPUT_SHAPE]
    return f'{{"inputs": [{{"name": "mel", "shape": {shape}, "datatype": "FP32", "data": {data}}}]}}'.encode()


def with_one(value: str) -> str:
    """A whole segment's data, zeros but for ``value`` (written as given) first."""
    return "[" + value + ", 0" * (int(np.prod(INPUT_SHAPE)) - 1) + "]"


def answer(response: Any) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            b'{"inputs": [{"name": "mel", "shape": [1], "datatype": "FP32", "data": ' + b"[" * 100_000,
            "at most 64 arrays and objects; got 100004",
        ),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "at most 256 strings; got about 100000"),
        (tensor_body("[" + "7" * 5000 + "]"), "number out of range"),
        (tensor_body(with_one("1e400")), "NaN or infinite"),
        (tensor_body(with_one("1" + "0" * 400)), "beyond float32's range"),
        (tensor_body(with_one("3.5e38")), "NaN or infinite"),
    ],
    ids=["nested-arrays", "nested-objects", "5000-digits", "1e400", "10**400", "beyond-float32"],
)
def test_v2_bodies_that_used_to_500_are_400(client: TestClient, body: bytes, words: str) -> None:
    status, code, message = answer(client.post(INFER, content=body, headers=JSON))
    assert (status, code) == (400, "invalid_input")
    assert words in message
    assert len(message) <= 1000


def inputs_body(count: int) -> bytes:
    inputs = ",".join(
        f'{{"name": "in{i}", "shape": [1], "datatype": "FP32", "data": [0]}}' for i in range(count)
    )
    return f'{{"inputs": [{inputs}]}}'.encode()


def test_many_inputs_are_refused_before_parsing_with_a_short_message(client: TestClient) -> None:
    status, _, message = answer(client.post(INFER, content=inputs_body(300_000), headers=JSON))
    assert status == 400
    assert message.startswith("not an inference request: a request holds at most 256 strings; got about ")
    assert len(message) < 200
    status, _, message = answer(client.post(INFER, content=inputs_body(9), headers=JSON))
    assert status == 400
    assert "['in0', 'in1', 'in2', 'in3', 'in4'] and 4 more" in message


def test_a_v2_body_larger_than_any_valid_request_is_refused_unread(client: TestClient) -> None:
    headers = {**JSON, "content-length": str(MAX_BODY_BYTES + 1)}
    status, code, _ = answer(client.post(INFER, content=b"{}", headers=headers))
    assert (status, code) == (413, "payload_too_large")


def test_finite_but_huge_mel_values_never_give_non_finite_outputs(client: TestClient) -> None:
    mel = np.full((1, *INPUT_SHAPE), 3.0e38, dtype=np.float32)
    response = client.post(INFER, content=tensor_body(json.dumps(mel.ravel().tolist())), headers=JSON)
    status, code, _ = answer(response)
    assert (status, code) == (422, "not_analysable")


@pytest.mark.parametrize("timeline", [True, False])
def test_float_audio_near_the_float32_maximum_is_422_not_nan(client: TestClient, timeline: bool) -> None:
    rng = np.random.default_rng(0)
    samples = (rng.uniform(-1, 1, 16_000 * 4) * 3.0e38).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, samples, 16_000, format="WAV", subtype="FLOAT")
    status, code, message = answer(upload(client, buffer.getvalue(), params={"timeline": timeline}))
    assert (status, code) == (422, "not_analysable")
    assert "overflows" in message


def test_head_is_answered_wherever_get_is(client: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/labels", "/v2/health/live"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
    assert client.head("/predict").status_code == 405


def test_v2_health_probes_need_no_key_when_keys_are_set(make_client: AppFactory) -> None:
    client = make_client(api_keys="a-key-of-sufficient-length")
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").status_code == 200
    assert client.get("/v2/models/songid-test").status_code == 401


def test_a_body_framed_twice_is_refused_before_any_route() -> None:
    reached: list[str] = []
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/predict",
        "headers": [(b"transfer-encoding", b"chunked"), (b"content-length", b"10")],
    }
    asyncio.run(FramingMiddleware(app)(scope, receive, send))
    assert reached == []
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"])["error"]["code"] == "invalid_input"


def test_a_body_of_empty_objects_is_refused_at_once(client: TestClient) -> None:
    body = b'{"inputs":[' + b",".join([b"{}"] * 300_000) + b"]}"  # 900 KB, no tensor named
    started = time.perf_counter()
    status, code, message = answer(client.post(INFER, content=body, headers=JSON))
    took = time.perf_counter() - started
    assert (status, code) == (400, "invalid_input")
    assert "at most 64 arrays and objects; got 300002" in message
    assert took < 1.0  # 9.9 s when the body was parsed before any limit was checked


def test_a_trailing_slash_is_not_redirected_to_the_host_header(client: TestClient) -> None:
    response = client.get("/labels/", headers={"host": "attacker.example"}, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers
    assert client.get("/labels").status_code == 200
