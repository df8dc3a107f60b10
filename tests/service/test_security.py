from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.errors import UnauthorizedError
from service.security import ApiKeyChecker
from tests.service.conftest import AppFactory, upload

KEYS = "alpha-key-123,beta-key-456"


@pytest.fixture
def secured(make_client: AppFactory) -> TestClient:
    return make_client(api_keys=KEYS)


def test_checker_accepts_any_configured_key() -> None:
    checker = ApiKeyChecker([SecretStr("one"), SecretStr("two")])
    assert checker.enabled
    assert checker.is_valid("one") and checker.is_valid("two")
    assert not checker.is_valid("on") and not checker.is_valid("one ") and not checker.is_valid("")
    checker.verify("two")
    with pytest.raises(UnauthorizedError, match="invalid"):
        checker.verify("three")
    with pytest.raises(UnauthorizedError, match="missing"):
        checker.verify(None)


def test_checker_without_keys_lets_everything_through() -> None:
    checker = ApiKeyChecker([])
    assert not checker.enabled
    checker.verify(None)


@pytest.mark.parametrize("path", ["/labels", "/metrics"])
def test_routes_need_a_key(secured: TestClient, path: str) -> None:
    response = secured.get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
    assert secured.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert secured.get(path, headers={"X-API-Key": "alpha-key-12"}).status_code == 401


def test_predict_needs_a_key(secured: TestClient, wav_bytes: bytes) -> None:
    assert upload(secured, wav_bytes).status_code == 401
    assert (
        upload(secured, wav_bytes, headers={"Authorization": "Basic YWxwaGEta2V5LTEyMw=="}).status_code == 401
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer alpha-key-123"},
        {"Authorization": "bearer beta-key-456"},
        {"X-API-Key": "beta-key-456"},
    ],
)
def test_either_header_with_a_valid_key_works(
    secured: TestClient, wav_bytes: bytes, headers: dict[str, str]
) -> None:
    assert secured.get("/labels", headers=headers).status_code == 200
    assert upload(secured, wav_bytes, headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_stay_open(secured: TestClient, path: str) -> None:
    assert secured.get(path).status_code == 200


def test_keys_appear_in_the_schema_only_when_configured(secured: TestClient, client: TestClient) -> None:
    assert set(secured.get("/openapi.json").json()["components"]["securitySchemes"]) == {
        "HTTPBearer",
        "APIKeyHeader",
    }
    paths = client.get("/openapi.json").json()["paths"]
    assert "security" not in paths["/predict"]["post"] and "security" not in paths["/labels"]["get"]
    assert "security" in paths["/artists"]["post"]  # gallery writes always need the admin key


def test_docs_can_be_switched_off(make_client: AppFactory) -> None:
    client = make_client(docs_enabled=False)
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/docs").status_code == 404
