from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.service.conftest import upload
from tests.service.samples import encode


def sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    raise AssertionError(f"{name}{{{wanted}}} not in metrics")


def test_metrics_count_requests_latency_and_audio(client: TestClient) -> None:
    assert upload(client, encode("wav", seconds=6.5)).status_code == 200
    assert upload(client, b"not audio at all").status_code == 415
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "songid_http_requests_total", route="/predict", method="POST", status="200") == 1
    assert sample(text, "songid_http_requests_total", route="/predict", method="POST", status="415") == 1
    assert (
        sample(
            text, "songid_http_request_duration_seconds_count", route="/predict", method="POST", status="200"
        )
        == 1
    )
    assert sample(text, "songid_http_requests_in_flight") == 1  # this very request
    assert sample(text, "songid_predictions_in_flight") == 0
    assert sample(text, "songid_inference_seconds_count") == 1
    assert sample(text, "songid_decode_seconds_count") == 1
    assert sample(text, "songid_audio_seconds_analysed_total") == 6.5


def test_unknown_paths_share_one_label(client: TestClient) -> None:
    for path in ("/a", "/b/c", "/predict/x"):
        assert client.get(path).status_code == 404
    text = client.get("/metrics").text
    assert sample(text, "songid_http_requests_total", route="unmatched", method="GET", status="404") == 3
    assert "/b/c" not in text
