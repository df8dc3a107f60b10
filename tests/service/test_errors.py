"""The one mapping from exception types to statuses and the JSON error body."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.domain_errors import ConflictError, DomainError, NotFoundError, UnavailableError
from service.errors import (
    InvalidInputError,
    ModelNotReadyError,
    OverloadedError,
    PayloadTooLargeError,
    RequestTimeoutError,
    ServiceError,
    UnauthorizedError,
    UnsupportedMediaError,
    install_error_handlers,
)

CASES: list[tuple[ServiceError, int, str]] = [
    (InvalidInputError("no file"), 400, "invalid_input"),
    (UnauthorizedError(), 401, "unauthorized"),
    (PayloadTooLargeError("too big"), 413, "payload_too_large"),
    (UnsupportedMediaError("not audio"), 415, "unsupported_media_type"),
    (ModelNotReadyError("loading"), 503, "model_not_ready"),
    (OverloadedError("busy", retry_after_s=7), 503, "overloaded"),
    (RequestTimeoutError("slow"), 504, "timeout"),
]


DOMAIN_CASES: list[tuple[DomainError, int, str]] = [
    (NotFoundError("no enrolled artist 'x'"), 404, "not_found"),
    (ConflictError("'x' is already enrolled"), 409, "conflict"),
    (UnavailableError("the gallery's database is down", retry_after_s=5), 503, "gallery_unavailable"),
    (UnavailableError("the gallery file g.sqlite cannot be used"), 503, "gallery_unavailable"),
]


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/raise/{index}")
    async def raise_it(index: int) -> None:
        raise CASES[index][0]

    @app.get("/domain/{index}")
    async def raise_domain(index: int) -> None:
        raise DOMAIN_CASES[index][0]

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internal detail")

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("index", "case"), list(enumerate(CASES)), ids=[c[2] for c in CASES])
def test_service_errors_become_json(
    client: TestClient, index: int, case: tuple[ServiceError, int, str]
) -> None:
    error, status, code = case
    response = client.get(f"/raise/{index}")
    assert response.status_code == status
    assert response.json() == {"error": {"code": code, "message": error.message}}


def test_overloaded_says_when_to_retry(client: TestClient) -> None:
    response = client.get(f"/raise/{[c[2] for c in CASES].index('overloaded')}")
    assert response.headers["retry-after"] == "7"


def test_unauthorized_names_the_scheme(client: TestClient) -> None:
    assert client.get("/raise/1").headers["www-authenticate"] == "Bearer"


def test_validation_errors_are_422_with_the_parameter_named(client: TestClient) -> None:
    response = client.get("/raise/not-a-number")
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid_parameters"
    assert "index" in body["message"]


def test_routing_errors_keep_their_status(client: TestClient) -> None:
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = client.post("/crash")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["allow"]


def test_unexpected_errors_hide_their_details(client: TestClient) -> None:
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "internal server error"}}


@pytest.mark.parametrize(("index", "case"), list(enumerate(DOMAIN_CASES)), ids=lambda c: str(c))
def test_the_stored_states_errors_become_http_here(
    client: TestClient, index: int, case: tuple[DomainError, int, str]
) -> None:
    error, status, code = case
    response = client.get(f"/domain/{index}")
    assert response.status_code == status
    assert response.json() == {"error": {"code": code, "message": error.message}}
    retry = error.retry_after_s if isinstance(error, UnavailableError) else None
    assert response.headers.get("retry-after") == (str(retry) if retry is not None else None)
