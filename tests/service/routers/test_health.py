from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service.app import create_app
from service.model import SongModel
from tests.service.conftest import make_settings


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_providers_in_use(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "model": {"name": "songid-test", "version": 1},
        "providers": ["CPUExecutionProvider"],
    }


def test_not_ready_before_startup_and_after_shutdown(model_repo: Path) -> None:
    app = create_app(make_settings(model_repo), model=SongModel(model_repo, provider="cpu"))
    unstarted = TestClient(app, raise_server_exceptions=False)  # no lifespan: nothing loaded
    response = unstarted.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_not_ready"
    assert unstarted.get("/healthz").status_code == 200
    refused = unstarted.post("/predict", files={"file": ("a.wav", b"RIFF", "audio/wav")})
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "model_not_ready"

    with TestClient(app) as started:
        assert started.get("/readyz").status_code == 200
    assert TestClient(app).get("/readyz").status_code == 503
