"""Per-request context: request id, access log line and request metrics (plain ASGI)."""

from __future__ import annotations

import logging
from time import perf_counter

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import internal_error_response
from service.logging import accept_request_id, request_id_var
from service.metrics import Metrics

REQUEST_ID_HEADER = "x-request-id"
UNMATCHED_ROUTE = "unmatched"
# Polled every few seconds by orchestrators: their access lines are DEBUG, so INFO logs show traffic.
PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/v2/health/live", "/v2/health/ready"})

access_logger = logging.getLogger("service.access")


def _route_template(scope: Scope) -> str:
    """The matched route's path template (bounded label set), never the raw path."""
    route = scope.get("route")
    if isinstance(route, BaseRoute):
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
    return UNMATCHED_ROUTE


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_id = headers.get(REQUEST_ID_HEADER.encode())
        request_id = accept_request_id(raw_id.decode("latin-1") if raw_id is not None else None)
        token = request_id_var.set(request_id)
        status = 500
        status_sent = False
        started = perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = int(message["status"]), True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), request_id.encode("latin-1")),
                ]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                if status_sent:
                    raise
                # Answered here rather than by the outermost handler, so the 500 keeps its request id.
                await internal_error_response(exc)(scope, receive, send_with_id)
        finally:
            elapsed = perf_counter() - started
            self.metrics.in_flight.dec()
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.observe_request(route, method, status, elapsed)
            access_logger.log(
                logging.DEBUG if route in PROBE_ROUTES and status < 400 else logging.INFO,
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    }
                },
            )
            request_id_var.reset(token)
