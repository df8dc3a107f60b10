"""Request framing the routes never see: ``HEAD`` served as ``GET`` without a body, and a body
announced twice (``Transfer-Encoding`` and ``Content-Length``) refused (plain ASGI).

A request with both headers is the classic request-smuggling shape: a proxy in front may
frame the body by one header and this server by the other. RFC 9112 allows a server to
reject it and says to close the connection then: here it gets 400 with ``Connection: close``
before any route reads a byte, and the server closes the connection after it, so bytes after
the body (a second request hidden in it) are never read as a request.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import InvalidInputError, json_error


class FramingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = {name.lower() for name, _ in scope.get("headers") or []}
        if b"transfer-encoding" in names and b"content-length" in names:
            error = InvalidInputError("a request may not carry both Transfer-Encoding and Content-Length")
            answer = json_error(error.status_code, error.code, error.message, {"connection": "close"})
            await answer(scope, receive, send)
            return
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_head(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}  # the headers (Content-Length too) are GET's
            await send(message)

        scope["method"] = "GET"  # in place, so the routing the outer middleware reads is kept
        try:
            await self.app(scope, receive, send_head)
        finally:
            scope["method"] = "HEAD"
