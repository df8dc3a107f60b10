"""Optional API keys: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

With no keys configured the dependency is not installed and every route is open. Keys
are compared in constant time against every configured key, so timing tells nothing
about which key, or how much of one, matched. Keys are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from service.errors import ForbiddenError, UnauthorizedError

API_KEY_HEADER = "X-API-Key"

_bearer = HTTPBearer(auto_error=False, description="An API key as a bearer token.")
_api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="An API key.")


def _digest(value: bytes) -> bytes:
    # Equal-length digests: the comparison time says nothing about the keys' lengths either.
    return hashlib.sha256(value).digest()


class ApiKeyChecker:
    def __init__(self, keys: Sequence[SecretStr]) -> None:
        self._keys = [_digest(key.get_secret_value().encode()) for key in keys]

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def is_valid(self, candidate: str) -> bool:
        given = _digest(candidate.encode("utf-8", errors="surrogateescape"))
        matched = False
        for key in self._keys:  # no early exit: every key is compared
            matched |= hmac.compare_digest(given, key)
        return matched

    def verify(self, presented: str | None) -> None:
        """Raise :class:`UnauthorizedError` unless keys are off or ``presented`` is one of them."""
        if not self.enabled:
            return
        if not presented:
            raise UnauthorizedError(
                f"missing API key: send 'Authorization: Bearer <key>' or '{API_KEY_HEADER}: <key>'"
            )
        if not self.is_valid(presented):
            raise UnauthorizedError("invalid API key")


def _presented(bearer: HTTPAuthorizationCredentials | None, api_key: str | None) -> str | None:
    return bearer.credentials if bearer is not None else api_key


async def require_admin_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    api_key: Annotated[str | None, Security(_api_key_header)],
) -> None:
    """Route dependency of gallery writes: an admin key; with none configured, every write is refused."""
    checker: ApiKeyChecker = request.app.state.admin_keys
    presented = _presented(bearer, api_key)
    if not checker.enabled:
        raise ForbiddenError("the gallery is read-only here: no admin key is configured (SONGID_ADMIN_KEYS)")
    if not presented or not checker.is_valid(presented):
        raise ForbiddenError("gallery writes need an admin key")


async def require_api_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    api_key: Annotated[str | None, Security(_api_key_header)],
) -> None:
    """Router dependency: a valid key in either header, checked by the app's :class:`ApiKeyChecker`."""
    checker: ApiKeyChecker = request.app.state.api_keys
    presented = _presented(bearer, api_key)
    admin: ApiKeyChecker = request.app.state.admin_keys
    if presented and admin.enabled and admin.is_valid(presented):
        return  # an admin key may read too
    checker.verify(presented)
