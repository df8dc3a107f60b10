"""uvicorn's h11 protocol with the limits a public socket needs; :mod:`service.server` says why
each limit is here and not elsewhere."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections import OrderedDict
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.errors import error_body
from service.limits import ConnectionLimits
from service.linger import linger_close

logger = logging.getLogger(__name__)

DISCARD_READS = 16  # at most 16 x 64 KiB of unread input is dropped before a close
# The kernel's send buffer per connection: room for any of the service's answers, and small
# enough that a client reading none is found stalled after a few (Linux would grow it to MBs).
SEND_BUFFER_BYTES = 256 * 1024
MAX_LINGERING = 128  # closed sockets draining at once (service.linger); more close at once
CLOSE = (b"connection", b"close")


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
    loop turn as it was accepted (at the cap, when the server fell behind), or answered before
    its body was read, has exactly that.
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


def head_problem(buffer: bytes, limits: ConnectionLimits) -> str | None:
    """What is wrong with the request head at the start of ``buffer`` (complete or not), if anything.

    Only the first ``max_header_bytes`` (+ the blank line) are searched, so the cost is bounded
    however much arrived.
    """
    window = limits.max_header_bytes + 3
    ends = [i for i in (buffer.find(b"\n\r\n", 0, window), buffer.find(b"\n\n", 0, window)) if i >= 0]
    if ends:
        end = min(ends)
    elif len(buffer) > limits.max_header_bytes:
        return f"request head larger than {limits.max_header_bytes} bytes"
    else:
        end = len(buffer)  # not complete yet: its fields so far are counted too
    if buffer.count(b"\n", 0, end) > limits.max_header_fields:  # the request line's is the head's end
        return f"request head with more than {limits.max_header_fields} header fields"
    return None


@dataclass
class ConnectionGuard:
    """Connections waiting for a request head and connections whose client stopped reading,
    oldest first, and the cap."""

    max_connections: int
    limits: ConnectionLimits
    waiting: OrderedDict[GuardedH11Protocol, None] = field(default_factory=OrderedDict)
    stalled: OrderedDict[GuardedH11Protocol, None] = field(default_factory=OrderedDict)
    # Connections that sent a request before the previous one was answered (RFC 9112 9.3.2: their
    # clients retry what a close leaves unanswered).
    pipelining: OrderedDict[GuardedH11Protocol, None] = field(default_factory=OrderedDict)
    lingering: set[socket.socket] = field(default_factory=set)  # closed sockets still draining
    timed_out: int = 0
    evicted: int = 0
    refused: int = 0
    send_timeouts: int = 0

    def may_linger(self) -> bool:
        """Whether one more closed socket may drain (a bounded number: each holds a descriptor)."""
        self.lingering = {sock for sock in self.lingering if sock.fileno() >= 0}
        return len(self.lingering) < MAX_LINGERING

    def evict_oldest(self) -> bool:
        """Close the connection waiting longest for its head, else the one whose client has read
        nothing for longest, else the oldest that pipelined a request; ``False`` when none."""
        if self.waiting:
            oldest, _ = self.waiting.popitem(last=False)
            self.evicted += 1
            oldest.close_waiting()
            return True
        for held in (self.stalled, self.pipelining):
            if held:
                oldest, _ = held.popitem(last=False)
                self.evicted += 1
                oldest.abort_for_room()
                return True
        return False


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the limits of :class:`ConnectionLimits` and a connection cap."""

    guard: ClassVar[ConnectionGuard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self._answered_early = False
        self.app = self._closing_early_answers(self.app)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Paused (and the send timer started) as soon as the kernel takes no more of an answer,
        # however little waits: a stalled connection closing after its answer is timed too.
        transport.set_write_buffer_limits(high=0)
        raw = transport.get_extra_info("socket")
        if raw is not None:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        if len(self.connections) > self.guard.max_connections and not self.guard.evict_oldest():
            self.guard.refused += 1
            logger.warning("connection refused: every connection is busy with a request")
            self._close_with(503, "overloaded", "too many connections; retry later")
            return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_received()
        self._writing_resumed()
        self.guard.pipelining.pop(self, None)
        raw = self.transport.get_extra_info("socket")
        if self._answered_early and exc is None and raw is not None and self.guard.may_linger():
            # The answer is written; its FIN follows and the rest of the body is dropped
            # (bounded) instead of a reset that would lose the answer.
            lingering = linger_close(raw, self.loop)
            if lingering is not None:
                self.guard.lingering.add(lingering)
        super().connection_lost(exc)

    def handle_events(self) -> None:
        if self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE:
            problem = head_problem(self.conn.trailing_data[0], self.guard.limits)
            if problem is not None:  # before h11 parses a head that arrived whole
                self._head_received()
                logger.info("request head refused", extra={"fields": {"problem": problem}})
                self._close_with(400, "invalid_http", problem)
                return
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request head was parsed and handed to the application
            self._head_received()
        conn = self.conn
        if conn.their_state is h11.DONE and conn.our_state is not h11.DONE and conn.trailing_data[0]:
            self.guard.pipelining.setdefault(self, None)  # bytes after a request not yet answered

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._await_head()  # the next request's head is due in time too (pipelined: at once)
        super().on_response_complete()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self.guard.stalled[self] = None
            self._send_timer = self.loop.call_later(self.guard.limits.send_timeout_s, self._send_timed_out)

    def resume_writing(self) -> None:
        self._writing_resumed()
        super().resume_writing()

    def send_400_response(self, msg: str) -> None:
        self._head_received()
        headers = [(b"content-type", b"application/json"), CLOSE]
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

    def abort_for_room(self) -> None:
        """Closed to make room, mid-answer (its client reads nothing, or pipelines): nothing more
        is written."""
        self._writing_resumed()
        self.guard.pipelining.pop(self, None)
        self.transport.abort()

    def _closing_early_answers(self, app: ASGIApp) -> ASGIApp:
        """``app``, whose answers given before the request body was all received say
        ``Connection: close``: the connection is then closed after the answer (h11 reads it so)
        and the rest of the body is never read, nor answered a second time."""

        async def closing(scope: Scope, receive: Receive, send: Send) -> None:
            async def send_closing(message: Message) -> None:
                if message["type"] == "http.response.start" and self.conn.their_state is not h11.DONE:
                    self._answered_early = True
                    kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != CLOSE[0]]
                    message = {**message, "headers": [*kept, CLOSE]}
                await send(message)

            await app(scope, receive, send_closing)

        return closing

    def _await_head(self) -> None:
        self._head_received()
        self.guard.waiting[self] = None
        self._head_timer = self.loop.call_later(self.guard.limits.header_timeout_s, self._head_timed_out)

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
        seconds = f"{self.guard.limits.header_timeout_s:g}"
        self._close_with(408, "request_timeout", f"request head not received within {seconds} s")

    def _writing_resumed(self) -> None:
        self.guard.stalled.pop(self, None)
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _send_timed_out(self) -> None:
        self._send_timer = None
        self.guard.stalled.pop(self, None)
        self.guard.send_timeouts += 1
        logger.info("connection closed: the client read no response in time")
        self.transport.abort()

    def _close_with(self, status: int, code: str, message: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(raw_response(status, code, message))
            discard_unread(self.transport)
            self.transport.close()


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """A protocol class bound to ``guard`` (uvicorn instantiates the class it is given)."""
    return type("SongidH11Protocol", (GuardedH11Protocol,), {"guard": guard})
