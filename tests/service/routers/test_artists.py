"""/artists: enrolment, listing, deletion, and /predict answering enrolled artists."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.model import SongModel
from tests.postgres import fresh_database
from tests.service.conftest import make_settings
from tests.service.samples import CENTROID_THRESHOLD, LABELS, encode, make_artifact

ADMIN = {"X-API-Key": "admin-secret"}


@pytest.fixture(params=["sqlite", "postgresql"])
def gallery_repo(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A model folder with centroids, and the gallery's store: an SQLite file or a PostgreSQL database."""
    make_artifact(tmp_path / "models", embedding=True, centroids=True)
    if request.param == "postgresql":
        (tmp_path / "database-url").write_text(fresh_database(request.getfixturevalue("postgres_url")))
    return tmp_path


def _client(repo: Path, **overrides: Any) -> TestClient:
    url = repo / "database-url"
    store = {"database_url": url.read_text()} if url.is_file() else {"gallery_path": repo / "gallery.sqlite"}
    settings = make_settings(repo / "models", admin_keys="admin-secret", **store, **overrides)
    client = TestClient(
        create_app(settings, model=SongModel(repo / "models", provider="cpu")), raise_server_exceptions=False
    )
    client.__enter__()
    return client


@pytest.fixture
def gallery(gallery_repo: Path) -> Any:
    client = _client(gallery_repo)
    yield client
    client.__exit__(None, None, None)


def _songs(*freqs: float, fmt: str = "wav") -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (f"song{f:.0f}.{fmt}", encode(fmt, seconds=6.0, freq=f), "audio/wav")) for f in freqs]


def _enrol(client: TestClient, artist_id: str, files: list[Any], **kw: Any) -> Any:
    headers = kw.pop("headers", ADMIN)
    return client.post(
        "/artists", data={"id": artist_id, "name": f"Name of {artist_id}"}, files=files, headers=headers
    )


def test_an_enrolled_artist_is_recognised_by_predict(gallery: TestClient) -> None:
    response = _enrol(gallery, "new-artist", _songs(300.0, 310.0))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["added_songs"] == 2 and body["artist"]["songs"] == 2 and not body["artist"]["stale"]
    predicted = gallery.post("/predict", files=_songs(305.0)).json()
    decision = predicted["decisions"]["artist"]
    assert (
        decision["status"] == "known"
        and decision["label"] == "new-artist"
        and decision["source"] == "enrolled"
    )
    assert decision["score"] >= CENTROID_THRESHOLD == decision["threshold"]
    assert predicted["artists"][0] == {
        "label": "new-artist",
        "name": "Name of new-artist",
        "source": "enrolled",
        "similarity": decision["score"],
    }
    assert {m["source"] for m in predicted["artists"]} == {"enrolled", "trained"}
    assert gallery.get("/labels").json()["gallery"] == {
        "enrolled": 1,
        "stale": 0,
        "threshold": CENTROID_THRESHOLD,
        "state": "current",
    }


def test_without_enrolled_artists_the_head_decides_and_artists_are_ranked(gallery: TestClient) -> None:
    predicted = gallery.post("/predict", files=_songs(305.0)).json()
    assert predicted["decisions"]["artist"]["source"] == "trained"
    assert [m["source"] for m in predicted["artists"]] == ["trained"] * len(LABELS["artist"])


def test_list_get_add_and_delete(gallery: TestClient) -> None:
    for k in range(3):
        assert _enrol(gallery, f"a{k}", _songs(200.0 + 50 * k)).status_code == 201
    page = gallery.get("/artists", params={"offset": 1, "limit": 1}).json()
    assert page["total"] == 3 and [a["id"] for a in page["items"]] == ["a1"] and page["stale"] == 0
    added = gallery.post("/artists/a1/songs", files=_songs(250.0, 260.0), headers=ADMIN).json()
    assert added["added_songs"] == 1 and added["artist"]["songs"] == 2  # 250 Hz was enrolled already
    assert gallery.get("/artists/a1").json()["songs"] == 2
    assert gallery.delete("/artists/a1", headers=ADMIN).status_code == 204
    assert gallery.get("/artists/a1").status_code == 404
    assert gallery.delete("/artists/a1", headers=ADMIN).json()["error"]["code"] == "not_found"


def test_writes_need_the_admin_key(gallery: TestClient) -> None:
    for response in (
        _enrol(gallery, "x", _songs(300.0), headers={}),
        _enrol(gallery, "x", _songs(300.0), headers={"X-API-Key": "wrong"}),
        gallery.delete("/artists/x"),
    ):
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert gallery.get("/artists").json()["total"] == 0


def test_bad_enrolments_name_the_problem_and_store_nothing(gallery: TestClient) -> None:
    assert _enrol(gallery, "taken", _songs(300.0)).status_code == 201
    silence = (
        "file",
        ("quiet.wav", encode("wav", seconds=6.0, freq=300.0)[:44] + bytes(192_000), "audio/wav"),
    )
    text = ("file", ("notes.txt", b"not audio at all" * 100, "text/plain"))
    cases = [
        (_enrol(gallery, "taken", _songs(400.0)), 409, "already enrolled"),
        (_enrol(gallery, LABELS["artist"][0]["id"], _songs(400.0)), 409, "trained on"),
        (_enrol(gallery, "b", [*_songs(400.0), text]), 415, "'notes.txt'"),
        (_enrol(gallery, "b", [*_songs(400.0), silence]), 422, "'quiet.wav'"),
        (
            _enrol(gallery, "b", [("other", ("x.txt", b"x", "text/plain"))]),
            400,
            "missing multipart field 'file'",
        ),
        (_enrol(gallery, "b", _songs(*range(100, 1200, 100))), 400, "too many files: at most 10"),
        (_enrol(gallery, "bad id!", _songs(400.0)), 400, "field 'id' must match"),
        (gallery.post("/artists", data={"id": "b"}, files=_songs(400.0), headers=ADMIN), 400, "field 'name'"),
        (
            gallery.post("/artists/nobody/songs", files=_songs(400.0), headers=ADMIN),
            404,
            "no enrolled artist",
        ),
    ]
    for response, status, words in cases:
        assert response.status_code == status, response.text
        assert words in response.json()["error"]["message"]
    assert [a["id"] for a in gallery.get("/artists").json()["items"]] == ["taken"]


def test_a_replica_sees_an_enrolment_made_on_another(gallery_repo: Path) -> None:
    first, second = _client(gallery_repo, gallery_poll_s=0.1), _client(gallery_repo, gallery_poll_s=0.1)
    try:
        assert second.get("/labels").json()["gallery"]["enrolled"] == 0
        assert _enrol(first, "shared", _songs(300.0)).status_code == 201
        time.sleep(0.2)
        assert second.get("/labels").json()["gallery"]["enrolled"] == 1
        assert second.post("/predict", files=_songs(300.0)).json()["decisions"]["artist"]["label"] == "shared"
    finally:
        first.__exit__(None, None, None)
        second.__exit__(None, None, None)


def test_no_gallery_is_a_clear_503(client: TestClient) -> None:
    response = client.get("/artists")
    assert response.status_code == 503
    assert "SONGID_GALLERY_PATH" in response.json()["error"]["message"]
    assert client.post("/predict", files=_songs(300.0)).json()["artists"] is None


def test_an_enrolment_over_the_upload_limit_is_413_and_stores_nothing(gallery_repo: Path) -> None:
    client = _client(gallery_repo, max_upload_bytes=200_000)
    try:
        response = _enrol(client, "big", _songs(300.0, 320.0, 340.0))  # three 6 s WAVs: ~1.6 MB
        assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
        assert client.get("/artists").json()["total"] == 0
    finally:
        client.__exit__(None, None, None)


def test_a_form_refused_for_its_fields_closes_every_uploaded_file(
    gallery: TestClient, tmp_path: Path
) -> None:
    from tests.service.test_upload import RecordingSpools

    spools = RecordingSpools(tmp_path)
    gallery.app.state.spool_factory = spools  # type: ignore[attr-defined]
    response = _enrol(gallery, "bad id!", _songs(300.0, 320.0))
    assert response.status_code == 400 and "field 'id' must match" in response.json()["error"]["message"]
    assert len(spools.made) == 2 and all(f.closed for f in spools.made)
