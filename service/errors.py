"""Exception types that carry their HTTP meaning, and the one place they become JSON.

Everything below the routers raises these (or plain exceptions); nothing else builds an
error response. The body is always ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """Base class: an error with a status code, a stable code word and a safe message."""

    status_code: ClassVar[int] = HTTPStatus.INTERNAL_SERVER_ERROR
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


class InvalidInputError(ServiceError):
    """The request is malformed: no file, an empty file, a broken multipart body."""

    status_code = HTTPStatus.BAD_REQUEST
    code = "invalid_input"


class UnauthorizedError(ServiceError):
    status_code = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"

    def __init__(self, message: str = "a valid API key is required") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenError(ServiceError):
    """A valid key without the right to this operation (writes need the admin key)."""

    status_code = HTTPStatus.FORBIDDEN
    code = "forbidden"


class NotFoundError(ServiceError):
    status_code = HTTPStatus.NOT_FOUND
    code = "not_found"


class ConflictError(ServiceError):
    """The request contradicts what is stored (an id already taken, a model mismatch)."""

    status_code = HTTPStatus.CONFLICT
    code = "conflict"


class PayloadTooLargeError(ServiceError):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"


class UnsupportedMediaError(ServiceError):
    """Not multipart, or the file is not audio we can decode and analyse."""

    status_code = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"


class ModelNotReadyError(ServiceError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "model_not_ready"


class GalleryUnavailableError(ServiceError):
    """No artist gallery here: no store configured, or a model without centroids.json."""

    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "gallery_unavailable"


class OverloadedError(ServiceError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "overloaded"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


class NotAnalysableError(ServiceError):
    """A valid input the network cannot turn into finite numbers (e.g. samples near float32's maximum)."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "not_analysable"


class NoEvidenceError(ServiceError):
    """An enrolment file with nothing to recognise (silence, noise, a tone...): it stands for no artist."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "no_evidence"


class BodyTimeoutError(ServiceError):
    """The request body stalled, or came slower than the minimum rate; the connection is closed."""

    status_code = HTTPStatus.REQUEST_TIMEOUT
    code = "request_timeout"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"Connection": "close"})  # the rest of the body is not awaited


class RequestTimeoutError(ServiceError):
    status_code = HTTPStatus.GATEWAY_TIMEOUT
    code = "timeout"


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
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected_error)
