"""The README documents every setting; docs/service.md every route and error code."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.errors import DOMAIN_ERRORS, ServiceError
from service.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "service.md").read_text(encoding="utf-8")
README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("field", list(Settings.model_fields))
def test_every_setting_is_in_the_configuration_table(field: str) -> None:
    assert f"| `SONGID_{field.upper()}` |" in README


def test_every_route_has_a_curl_example(client: TestClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"]) - {"/artists/{artist_id}/songs"}
    core = {"/predict", "/labels", "/healthz", "/readyz", "/metrics", "/artists", "/artists/{artist_id}"}
    assert core <= paths and all(p in core or p.startswith("/v2/") for p in paths)
    for path in core:
        assert f"http://127.0.0.1:8000{path.replace('{artist_id}', 'new-artist-42')}" in DOC


def all_subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *all_subclasses(sub))]


@pytest.mark.parametrize("error", all_subclasses(ServiceError), ids=lambda e: e.__name__)
def test_every_error_code_is_documented(error: type[ServiceError]) -> None:
    assert f"| {int(error.status_code)} | `{error.code}` |" in DOC


@pytest.mark.parametrize(("status", "code"), list(DOMAIN_ERRORS.values()), ids=lambda v: str(v))
def test_every_stored_state_error_code_is_documented(status: int, code: str) -> None:
    assert f"| {int(status)} | `{code}` |" in DOC
