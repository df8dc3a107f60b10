"""The one place errors become HTTP: every exception type mapped to a status and a JSON body.

Code below the routers raises :mod:`service.domain_errors`' exceptions (or plain ones); they are
re-exported here for the HTTP modules. The stored state's errors (:class:`DomainError`) carry no
HTTP meaning: :data:`DOMAIN_ERRORS` gives each its status and code word. Nothing else builds an
error response. The body is always ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from service.domain_errors import (
    BodyTimeoutError,
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidInputError,
    ModelNotReadyError,
    NoEvidenceError,
    NotAnalysableError,
    NotFoundError,
    OverloadedError,
    PayloadTooLargeError,
    RequestTimeoutError,
    ServiceError,
    UnauthorizedError,
    UnavailableError,
    UnsupportedMediaError,
)

__all__ = [
    "DOMAIN_ERRORS",
    "BodyTimeoutError",
    "ConflictError",
    "DomainError",
    "ForbiddenError",
    "GalleryUnavailableError",
    "InvalidInputError",
    "ModelNotReadyError",
    "NoEvidenceError",
    "NotAnalysableError",
    "NotFoundError",
    "OverloadedError",
    "PayloadTooLargeError",
    "RequestTimeoutError",
    "ServiceError",
    "UnauthorizedError",
    "UnavailableError",
    "UnsupportedMediaError",
    "error_body",
    "install_error_handlers",
    "internal_error_response",
    "json_error",
]

logger = logging.getLogger(__name__)


class GalleryUnavailableError(ServiceError):
    """No artist gallery here: no store configured, or a model without centroids.json."""

    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "gallery_unavailable"


#: Each stored-state error's HTTP status and code word; the most specific class listed wins.
DOMAIN_ERRORS: dict[type[DomainError], tuple[HTTPStatus, str]] = {
    NotFoundError: (HTTPStatus.NOT_FOUND, "not_found"),
    ConflictError: (HTTPStatus.CONFLICT, "conflict"),
    UnavailableError: (HTTPStatus.SERVICE_UNAVAILABLE, "gallery_unavailable"),  # the gallery's store
}


MAX_MESSAGE_CHARS = 1000  # an error names the problem; it never echoes a whole request back


def error_body(code: str, message: str) -> dict[str, Any]:
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return {"error": {"code": code, "message": message}}


def json_error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=dict(headers or {}))


def _code_for_status(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request parameters"


async def _service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    if exc.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
        logger.warning("request failed", extra={"fields": {"code": exc.code, "detail": exc.message}})
    return json_error(exc.status_code, exc.code, exc.message, exc.headers)


def domain_status(exc: DomainError) -> tuple[HTTPStatus, str]:
    """The status and code word of a stored-state error (500 ``internal_error`` for one not mapped)."""
    for cls in type(exc).__mro__:
        if cls in DOMAIN_ERRORS:
            return DOMAIN_ERRORS[cls]
    return HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error"


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status, code = domain_status(exc)
    headers = {}
    if isinstance(exc, UnavailableError) and exc.retry_after_s is not None:
        headers["Retry-After"] = str(exc.retry_after_s)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        logger.warning("request failed", extra={"fields": {"code": code, "detail": exc.message}})
    return json_error(status, code, exc.message, headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return json_error(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_parameters", _describe_validation(exc))


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route answers at the request's path (Starlette names only the first
    route's when several share a path, as GET and POST /artists do)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED and (allowed := _allowed_methods(request)):
        headers["Allow"] = allowed
    return json_error(exc.status_code, _code_for_status(exc.status_code), message, headers)


def internal_error_response(exc: BaseException) -> JSONResponse:
    """Log an unexpected exception with its traceback; answer 500 without any detail."""
    logger.error("unhandled error", exc_info=exc)
    return json_error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal server error")


async def _client_gone(_: Request, exc: Exception) -> JSONResponse:
    # Nobody reads this answer; it keeps a vanished client out of the 500s and the error log.
    return json_error(HTTPStatus.BAD_REQUEST, "client_disconnected", "the client disconnected mid-request")


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    return internal_error_response(exc)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping from every exception type to the JSON error body."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected_error)
