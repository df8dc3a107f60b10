"""The HTTP server: uvicorn's h11 protocol with the limits a public socket needs.

uvicorn closes idle keep-alive connections but, alone, has no timeout for a request head that
never ends nor for a response nobody reads, lets h11 parse a head of any size when it arrives
in one piece, and keeps a connection open after answering a request whose body it has not
read. The limits are enforced in our subclass of uvicorn's h11 protocol
(:mod:`service.protocol`), where the connection's bytes and h11's state are both at hand;
uvicorn's own settings cannot express them (``h11_max_incomplete_event_size`` bounds only a
head still incomplete; ``limit_concurrency`` answers 503 to everyone once reached). httptools
would parse faster but gives no better handle on any of these, so h11 stays.

- **Head timeout.** A connection must deliver a complete request head within
  ``header_timeout_s`` of opening (or of its previous response); otherwise it gets
  ``408`` (JSON) and is closed.
- **Head size.** A request head over ``max_header_bytes`` or with more than
  ``max_header_fields`` fields gets ``400`` (JSON) and the connection is closed, whether the
  head came in pieces or in one write: it is measured in the received bytes before h11
  parses it.
- **Early answers close.** An answer given before the request body was all received (401,
  404, 413, 415, ...) says ``Connection: close`` and the connection is closed after it: the
  rest of the body is never read, and no second answer follows. The close lingers
  (:mod:`service.linger`: the answer, its FIN, then at most 2 s or 8 MiB of input dropped)
  so that a client still sending gets the answer rather than a reset. So is an answer to a body
  framed twice (``Transfer-Encoding`` with ``Content-Length``, :mod:`service.framing`):
  what follows it is never read as a request.
- **Send timeout.** A response that the client reads none of for ``send_timeout_s`` (the
  socket's buffers full: a client pipelining requests and never reading) closes the
  connection. The kernel's send buffer is held at 256 KiB per connection (Linux grows it to
  megabytes), so such a client is found stalled after a few answers, not after megabytes.
- **Connection cap.** At most ``max_connections`` connections are open. When a new one
  arrives at the cap, the connection that has waited longest for its request head is closed
  to make room, else the one whose client has read nothing for longest, else the oldest that
  pipelined requests (its client retries them, RFC 9112 9.3.2); when every connection is
  busy with a request, the new one gets ``503``. The cap stays below the
  process's file-descriptor limit (raised to its hard limit at start), so ``accept()`` does
  not fail and requests in progress keep their descriptors.
- **Quiet logs.** A repeated warning from the server, the event loop or the error handlers
  (503 overloaded) is logged once per interval with the count of those held back, not once
  per socket or request (:class:`service.logging.RepeatFilter`).
- A malformed request head (h11's error) gets the service's JSON error body instead of
  uvicorn's plain text.
"""

from __future__ import annotations

import logging
import resource

import uvicorn
from starlette.types import ASGIApp

from service.logging import quiet_repeats
from service.protocol import ConnectionGuard, ConnectionLimits, guarded_protocol

logger = logging.getLogger(__name__)

FD_RESERVE = 256  # descriptors kept for everything but client sockets: spooled uploads, the model, logs


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


def _limits_of(app: ASGIApp, header_timeout_s: float) -> ConnectionLimits:
    """The limits in the settings ``create_app`` keeps on the app; the defaults for another app."""
    settings = getattr(getattr(app, "state", None), "settings", None)
    limits = getattr(settings, "connection_limits", None)
    if isinstance(limits, ConnectionLimits):
        return limits
    return ConnectionLimits(header_timeout_s=header_timeout_s)


def serve(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    header_timeout_s: float,
    max_connections: int,
    keep_alive_s: int,
    graceful_shutdown_s: int,
    limits: ConnectionLimits | None = None,
) -> ConnectionGuard:
    """Run ``app`` until stopped, with the limits above; returns the guard (its counters).

    ``limits`` default to the app's settings (``Settings.connection_limits``), whose head
    timeout is ``header_timeout_s``.
    """
    limit = raise_open_file_limit()
    chosen = limits if limits is not None else _limits_of(app, header_timeout_s)
    guard = ConnectionGuard(max_connections=connection_cap(max_connections, limit), limits=chosen)
    quiet_repeats("asyncio", "uvicorn.error", "service.errors", "service.protocol", __name__)
    logger.info(
        "connection limits",
        extra={"fields": {"max_connections": guard.max_connections, **vars(chosen)}},
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
        h11_max_incomplete_event_size=chosen.max_header_bytes,
    )
    return guard
