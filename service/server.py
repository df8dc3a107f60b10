"""The HTTP server: uvicorn's h11 protocol with the limits a public socket needs.

uvicorn closes idle keep-alive connections but has no timeout for a request head that never
ends, and accepts connections until the process runs out of file descriptors. Here:

- **Head timeout.** A connection must deliver a complete request head within
  ``header_timeout_s`` of opening (or of its previous response); otherwise it gets
  ``408`` (JSON) and is closed.
- **Connection cap.** At most ``max_connections`` connections are open. When a new one
  arrives at the cap, the connection that has waited longest for its request head is closed
  to make room; when every connection is busy with a request, the new one gets ``503``.
  The cap stays below the process's file-descriptor limit (raised to its hard limit at
  start), so ``accept()`` does not fail and requests in progress keep their descriptors.
- **Quiet logs.** A repeated warning from the server or the event loop is logged once per
  interval with the count of those held back, not once per socket.
- A malformed request head (h11's error, e.g. one over h11's 16 KiB limit) gets the
  service's JSON error body instead of uvicorn's plain text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.errors import error_body

logger = logging.getLogger(__name__)

FD_RESERVE = 256  # descriptors kept for everything but client sockets: spooled uploads, the model, logs
LOG_INTERVAL_S = 10.0
DISCARD_READS = 16  # at most 16 x 64 KiB of unread input is dropped before a close


def raise_open_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            logger.warning("cannot raise the open-file limit", extra={"fields": {"soft": soft, "hard": hard}})
    return soft


def connection_cap(requested: int, open_file_limit: int) -> int:
    """``requested`` connections (0: as many as the descriptors allow), never above the limit's share."""
    allowed = max(open_file_limit - FD_RESERVE, 16)
    return allowed if requested == 0 else min(requested, allowed)


def raw_response(status: int, code: str, message: str) -> bytes:
    """A complete ``Connection: close`` HTTP/1.1 response with the service's JSON error body."""
    body = json.dumps(error_body(code, message)).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def discard_unread(transport: asyncio.Transport) -> None:
    """Read and drop input the event loop has not read yet from ``transport``'s socket.

    Closing a TCP socket with unread input sends a reset instead of a normal close, and the
    client's kernel then drops the answer written just before. A connection closed in the same
    loop turn as it was accepted (at the cap, when the server fell behind) has exactly that.
    """
    raw = transport.get_extra_info("socket")
    if raw is None:
        return
    with socket.fromfd(raw.fileno(), raw.family, raw.type) as sock:  # a duplicate descriptor
        try:
            for _ in range(DISCARD_READS):
                if not sock.recv(1 << 16, socket.MSG_DONTWAIT):
                    break
        except OSError:  # nothing more to read now (BlockingIOError), or the peer is gone
            pass


@dataclass
class ConnectionGuard:
    """Connections still waiting for a complete request head, oldest first, and the cap."""

    max_connections: int
    header_timeout_s: float
    waiting: OrderedDict[GuardedH11Protocol, None] = field(default_factory=OrderedDict)
    timed_out: int = 0
    evicted: int = 0
    refused: int = 0

    def evict_oldest(self) -> bool:
        """Close the connection that has waited longest for its head; ``False`` when none waits."""
        if not self.waiting:
            return False
        oldest, _ = self.waiting.popitem(last=False)
        self.evicted += 1
        oldest.close_waiting()
        return True


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head timeout and a connection cap (module docstring)."""

    guard: ClassVar[ConnectionGuard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.guard.max_connections and not self.guard.evict_oldest():
            self.guard.refused += 1
            logger.warning("connection refused: every connection is busy with a request")
            self._close_with(503, "overloaded", "too many connections; retry later")
            return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_received()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request head was parsed and handed to the application
            self._head_received()

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._await_head()  # the next request's head is due in time too (pipelined: at once)
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        self._head_received()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        body = json.dumps(error_body("invalid_http", "malformed or oversized HTTP request head")).encode()
        for event in (
            h11.Response(status_code=400, headers=headers),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def close_waiting(self) -> None:
        """Closed to make room (see :meth:`ConnectionGuard.evict_oldest`)."""
        self._head_received()
        self._close_with(503, "overloaded", "connection closed to make room: request head not received")

    def _await_head(self) -> None:
        self._head_received()
        self.guard.waiting[self] = None
        self._head_timer = self.loop.call_later(self.guard.header_timeout_s, self._head_timed_out)

    def _head_received(self) -> None:
        self.guard.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self not in self.guard.waiting or self.transport.is_closing():
            return
        del self.guard.waiting[self]
        self.guard.timed_out += 1
        logger.info("connection closed: request head not received in time")
        seconds = f"{self.guard.header_timeout_s:g}"
        self._close_with(408, "request_timeout", f"request head not received within {seconds} s")

    def _close_with(self, status: int, code: str, message: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(raw_response(status, code, message))
            discard_unread(self.transport)
            self.transport.close()


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """A protocol class bound to ``guard`` (uvicorn instantiates the class it is given)."""
    return type("SongidH11Protocol", (GuardedH11Protocol,), {"guard": guard})


class RepeatFilter(logging.Filter):
    """Let a message through once per ``interval_s``; the next one says how many were held back."""

    def __init__(self, interval_s: float = LOG_INTERVAL_S) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        last, held = self._last.get(key, (float("-inf"), 0))
        if now - last < self.interval_s:
            self._last[key] = (last, held + 1)
            return False
        self._last[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {self.interval_s:g} s)"
        if record.exc_info and held:
            record.exc_info = None  # the first one had the traceback
        return True


def quiet_repeats(*names: str, interval_s: float = LOG_INTERVAL_S) -> RepeatFilter:
    """Install one :class:`RepeatFilter` on each named logger (and on this module's)."""
    repeat = RepeatFilter(interval_s)
    for name in (*names, __name__):
        logging.getLogger(name).addFilter(repeat)
    return repeat


def serve(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    header_timeout_s: float,
    max_connections: int,
    keep_alive_s: int,
    graceful_shutdown_s: int,
) -> ConnectionGuard:
    """Run ``app`` until stopped, with the limits above; returns the guard (its counters)."""
    limit = raise_open_file_limit()
    guard = ConnectionGuard(
        max_connections=connection_cap(max_connections, limit), header_timeout_s=header_timeout_s
    )
    quiet_repeats("asyncio", "uvicorn.error")
    logger.info(
        "connection limits",
        extra={"fields": {"max_connections": guard.max_connections, "header_timeout_s": header_timeout_s}},
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=guarded_protocol(guard),
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_keep_alive=keep_alive_s,
        timeout_graceful_shutdown=graceful_shutdown_s,
    )
    return guard
