"""The gallery's PostgreSQL stops under two replicas, and comes back: the service degrades, then recovers.

While the database is down, /predict answers from the gallery loaded last and says it is stale,
writes and /artists answer 503 with Retry-After, /readyz stays 200 and reports the gallery stale,
and the metrics count it; a replica started meanwhile starts stale instead of failing. Within
seconds of the database's return, every replica is current again, without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.model import SongModel
from tests.postgres import PostgresServer, fresh_database
from tests.service.conftest import make_settings
from tests.service.samples import encode, make_artifact

ADMIN = {"X-API-Key": "admin-secret"}
POLL_S = 0.2  # the replicas check the database this often (the default is 2 s)
RECOVERY_S = 10.0  # the most the test waits for a replica to see the database again


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.stop(check=False)
    server.remove()


def _song(freq: float) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (f"song{freq:.0f}.wav", encode("wav", seconds=6.0, freq=freq), "audio/wav"))]


@pytest.fixture
def replica(tmp_path: Path, server: PostgresServer) -> Iterator[Callable[[], TestClient]]:
    make_artifact(tmp_path / "models", embedding=True, centroids=True)
    url = fresh_database(server.url)
    started: list[TestClient] = []

    def start() -> TestClient:
        settings = make_settings(
            tmp_path / "models", admin_keys="admin-secret", database_url=url, gallery_poll_s=POLL_S
        )
        client = TestClient(
            create_app(settings, model=SongModel(tmp_path / "models", provider="cpu")),
            raise_server_exceptions=False,
        )
        client.__enter__()
        started.append(client)
        return client

    yield start
    for client in started:
        client.__exit__(None, None, None)


def _predict(client: TestClient) -> dict[str, Any]:
    response = client.post("/predict", files=_song(305.0))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _metric(client: TestClient, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


def _until_current(client: TestClient) -> float:
    """Seconds until the replica's predictions come from a current gallery again."""
    started = time.monotonic()
    while _predict(client)["gallery"] != {"state": "current"}:
        assert time.monotonic() - started < RECOVERY_S, "the gallery did not recover"
        time.sleep(POLL_S)
    return time.monotonic() - started


def test_replicas_serve_a_stale_gallery_while_postgresql_is_down_then_recover(
    server: PostgresServer, replica: Callable[[], TestClient]
) -> None:
    first, second = replica(), replica()
    enrolled = first.post(
        "/artists", data={"id": "new-artist", "name": "New"}, files=_song(300.0), headers=ADMIN
    )
    assert enrolled.status_code == 201, enrolled.text
    time.sleep(2 * POLL_S)
    assert _predict(second)["decisions"]["artist"]["label"] == "new-artist"

    server.stop()
    time.sleep(2 * POLL_S)
    for client in (first, second):
        predicted = _predict(client)
        assert predicted["gallery"] == {"state": "stale"}
        assert predicted["decisions"]["artist"]["label"] == "new-artist"  # the gallery loaded last
        refused = client.post(
            "/artists", data={"id": "later", "name": "Later"}, files=_song(500.0), headers=ADMIN
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "gallery_unavailable"
        assert int(refused.headers["retry-after"]) >= 1
        assert client.get("/artists").status_code == 503
        assert client.delete("/artists/new-artist", headers=ADMIN).status_code == 503
        labels = client.get("/labels")
        assert labels.status_code == 200 and labels.json()["gallery"]["state"] == "stale"
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["gallery"] == {"state": "stale"}
        assert _metric(client, "songid_gallery_unavailable_total") >= 1
        assert _metric(client, "songid_gallery_stale") == 1
    late = replica()  # a replica started while the database is down starts, stale
    assert late.get("/readyz").json()["gallery"] == {"state": "stale"}
    assert _predict(late)["decisions"]["artist"]["source"] == "trained"  # nothing enrolled loaded yet

    server.start()
    for client in (first, second, late):
        assert _until_current(client) < RECOVERY_S
        assert client.get("/readyz").json()["gallery"] == {"state": "current"}
        assert _metric(client, "songid_gallery_stale") == 0
    assert _predict(late)["decisions"]["artist"]["label"] == "new-artist"
    again = second.post("/artists", data={"id": "later", "name": "Later"}, files=_song(500.0), headers=ADMIN)
    assert again.status_code == 201, again.text
    assert first.get("/artists").json()["total"] == 2
