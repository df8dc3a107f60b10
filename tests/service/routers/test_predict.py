"""POST /predict against the real app (lifespan run, real ONNX model, real decoders)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import AppFactory, upload
from tests.service.samples import ARTISTS, FORMATS, LANGUAGES, encode


def check_distribution(ranked: list[dict[str, object]], labels: list[dict[str, str]]) -> None:
    assert sorted(item["label"] for item in ranked) == sorted(x["id"] for x in labels)
    probabilities = [float(item["probability"]) for item in ranked]  # type: ignore[arg-type]
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-6)
    assert probabilities == sorted(probabilities, reverse=True)
    names = {x["id"]: x["name"] for x in labels}
    assert all(item["name"] == names[item["label"]] for item in ranked)  # type: ignore[index]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_is_identified(client: TestClient, fmt: str) -> None:
    response = upload(client, encode(fmt, seconds=6.5), filename=f"song.{fmt}", params={"top_k": 10})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == {"name": "songid-test", "version": 1}
    assert body["duration_s"] == pytest.approx(6.5, abs=0.1)
    assert body["n_segments"] == 2
    assert body["timeline"] is None
    check_distribution(body["predictions"]["artist"], ARTISTS)
    check_distribution(body["predictions"]["language"], LANGUAGES)


def test_default_top_k_is_five_capped_at_the_label_count(client: TestClient, wav_bytes: bytes) -> None:
    body = upload(client, wav_bytes).json()
    assert len(body["predictions"]["artist"]) == len(ARTISTS)  # 4 < 5
    assert len(body["predictions"]["language"]) == len(LANGUAGES)


def test_top_k_returns_the_best_labels(client: TestClient, wav_bytes: bytes) -> None:
    full = upload(client, wav_bytes, params={"top_k": 100}).json()["predictions"]
    one = upload(client, wav_bytes, params={"top_k": 1}).json()["predictions"]
    assert one["artist"] == full["artist"][:1]
    assert one["language"] == full["language"][:1]


@pytest.mark.parametrize("top_k", ["0", "-1", "101", "abc", "2.5"])
def test_top_k_out_of_bounds_is_422(client: TestClient, wav_bytes: bytes, top_k: str) -> None:
    response = upload(client, wav_bytes, params={"top_k": top_k})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_parameters"
    assert "top_k" in response.json()["error"]["message"]


def test_timeline_lists_every_segment(client: TestClient) -> None:
    response = upload(client, encode("flac", seconds=10.0), params={"timeline": "true", "top_k": 2})
    body = response.json()
    assert response.status_code == 200
    timeline = body["timeline"]
    assert len(timeline) == body["n_segments"] == 3
    starts = [segment["start_s"] for segment in timeline]
    assert starts == pytest.approx([0.0, 2.992, 5.984], abs=1e-3)
    assert all(s["end_s"] - s["start_s"] == pytest.approx(2.992, abs=1e-3) for s in timeline)
    for segment in timeline:
        assert len(segment["predictions"]["artist"]) == 2
        assert len(segment["predictions"]["language"]) == 2
    # song level = mean of segment probabilities: the top artist's song probability lies within
    # the range of its segment probabilities
    top = body["predictions"]["artist"][0]
    full = upload(client, encode("flac", seconds=10.0), params={"timeline": "true", "top_k": 4}).json()
    per_segment = [
        next(x["probability"] for x in s["predictions"]["artist"] if x["label"] == top["label"])
        for s in full["timeline"]
    ]
    assert sum(per_segment) / len(per_segment) == pytest.approx(top["probability"], rel=1e-4)


def test_timeline_false_omits_it(client: TestClient, wav_bytes: bytes) -> None:
    assert upload(client, wav_bytes, params={"timeline": "false"}).json()["timeline"] is None


def test_different_songs_get_different_answers(client: TestClient) -> None:
    low = upload(client, encode("wav", freq=110.0)).json()["predictions"]["artist"]
    high = upload(client, encode("wav", freq=3000.0)).json()["predictions"]["artist"]
    assert low != high


def test_analysis_is_capped_at_the_maximum_duration(make_client: AppFactory) -> None:
    client = make_client(max_duration_s=5.0)
    body = upload(client, encode("ogg", seconds=12.0)).json()
    assert body["duration_s"] == pytest.approx(5.0, abs=0.01)
    assert body["n_segments"] == 1


def test_upload_over_the_byte_cap_is_413(make_client: AppFactory) -> None:
    client = make_client(max_upload_bytes=64 * 1024)
    response = upload(client, encode("wav", seconds=3.0))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert upload(client, encode("ogg", seconds=3.0)).status_code == 200  # small enough


def test_request_id_is_echoed_or_made(client: TestClient, wav_bytes: bytes) -> None:
    echoed = upload(client, wav_bytes, headers={"X-Request-ID": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"
    made = upload(client, b"")
    assert len(made.headers["x-request-id"]) == 32


def test_audio_that_would_decode_too_large_is_413(make_client: AppFactory) -> None:
    client = make_client(max_decoded_bytes=16 * 2**20)  # the smallest allowed
    response = upload(client, encode("flac", seconds=8.0, rate=96_000, channels=6))
    assert response.status_code == 413
    assert "MiB" in response.json()["error"]["message"]
    assert upload(client, encode("ogg", seconds=3.5)).status_code == 200
