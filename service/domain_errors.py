"""The errors that code below the routers raises, free of any web framework.

Two kinds, both plain exceptions with a safe ``message``:

* :class:`DomainError` and its subclasses say what is wrong with the stored state (an id
  already taken, an artist that does not exist, a database that cannot be reached). They carry
  no HTTP meaning at all; :mod:`service.errors` maps each to a status and a code word.
* :class:`ServiceError` and its subclasses are the request and analysis errors (not audio, too
  large, not analysable...). Each carries its stable ``code`` and the number of its HTTP status
  (:class:`http.HTTPStatus`, the standard library's), read only by :mod:`service.errors`.

The model, the pipeline, the gallery and the batch tools import this module, never
:mod:`service.errors`, so none of them imports the web framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import ClassVar


class DomainError(Exception):
    """Base class of the stored state's errors: a safe ``message``, no transport meaning."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    """What the request names does not exist (an artist id nobody enrolled)."""


class ConflictError(DomainError):
    """The request contradicts what is stored (an id already taken, a model mismatch)."""


class UnavailableError(DomainError):
    """The store cannot be used now (database down, file unreadable or read-only).

    ``retry_after_s``: when a retry may succeed, in seconds; None when only an operator can fix it.
    """

    def __init__(self, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ServiceError(Exception):
    """Base class of request and analysis errors: a status number, a stable code word and a safe message."""

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
