"""An SQLite gallery file that cannot be used: never a 500, always the file named.

A read-only file still serves its artists and refuses writes with 503; a file that is not a
database leaves the service up with a stale gallery, 503 for /artists, and one log line naming
the file.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.gallery.backends import SqliteStore
from service.model import SongModel
from tests.service.conftest import make_settings
from tests.service.samples import encode, make_artifact

ADMIN = {"X-API-Key": "admin-secret"}
GARBAGE = b"not a database, but the file the gallery was told to use\n" * 100


def _song(freq: float) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (f"song{freq:.0f}.wav", encode("wav", seconds=6.0, freq=freq), "audio/wav"))]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[[], TestClient]]:
    make_artifact(tmp_path / "models", embedding=True, centroids=True)
    started: list[TestClient] = []

    def start_app() -> TestClient:
        settings = make_settings(
            tmp_path / "models", admin_keys="admin-secret", gallery_path=tmp_path / "gallery.sqlite"
        )
        client = TestClient(
            create_app(settings, model=SongModel(tmp_path / "models", provider="cpu")),
            raise_server_exceptions=False,
        )
        client.__enter__()
        started.append(client)
        return client

    yield start_app
    for client in started:
        client.__exit__(None, None, None)


def _enrol(client: TestClient, artist_id: str, freq: float) -> int:
    response = client.post(
        "/artists", data={"id": artist_id, "name": artist_id}, files=_song(freq), headers=ADMIN
    )
    return response.status_code


def _refused(response: object, path: Path) -> None:
    assert getattr(response, "status_code", None) == 503, getattr(response, "text", "")
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "gallery_unavailable" and str(path) in error["message"]


def test_a_read_only_file_serves_its_artists_and_refuses_writes_with_503(
    start: Callable[[], TestClient], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _enrol(start(), "ann", 300.0) == 201
    connect = SqliteStore._connect

    def read_only(self: SqliteStore) -> sqlite3.Connection:
        # what a file the service may not write gives (tests run as root, which writes any file)
        conn = connect(self)
        conn.execute("PRAGMA query_only=ON")
        return conn

    monkeypatch.setattr(SqliteStore, "_connect", read_only)
    client = start()
    assert client.get("/readyz").json()["gallery"] == {"state": "current"}
    assert client.get("/artists/ann").status_code == 200
    _refused(
        client.post("/artists", data={"id": "bo", "name": "Bo"}, files=_song(500.0), headers=ADMIN), tmp_path
    )
    _refused(client.delete("/artists/ann", headers=ADMIN), tmp_path)
    assert client.post("/predict", files=_song(305.0)).json()["decisions"]["artist"]["label"] == "ann"


def test_a_file_that_is_no_database_at_start_leaves_the_service_up_and_names_the_file(
    start: Callable[[], TestClient], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "gallery.sqlite"
    path.write_bytes(GARBAGE)
    with caplog.at_level(logging.ERROR, logger="service.gallery"):
        client = start()
    named = [r for r in caplog.records if str(path) in str(getattr(r, "fields", {}).get("error", ""))]
    assert len(named) == 1 and named[0].exc_info is None  # one line, no traceback
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["gallery"] == {"state": "stale"}
    predicted = client.post("/predict", files=_song(305.0))
    assert predicted.status_code == 200 and predicted.json()["gallery"] == {"state": "stale"}
    _refused(client.get("/artists"), path)
    _refused(
        client.post("/artists", data={"id": "bo", "name": "Bo"}, files=_song(500.0), headers=ADMIN), path
    )
    assert path.read_bytes() == GARBAGE  # the service never writes over what it cannot read
