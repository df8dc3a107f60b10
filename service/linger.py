"""A lingering close: after an answer given before the request was all read, the server ends
its side (FIN after the answer) and drops what the client still sends, for a bounded time and
number of bytes, before closing the socket.

Closing a TCP socket with unread input sends a reset, and a client still sending when the reset
comes often loses the answer it has not read yet (its write fails and its HTTP stack gives up
the connection). RFC 9112 (section 9.6) asks for this: half-close, then read and discard for a
while. The bounds keep it from becoming what it prevents: a client that sends for ever costs at
most ``max_bytes`` and ``seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

LINGER_S = 2.0
LINGER_BYTES = 8 * 1024 * 1024


def linger_close(
    raw: socket.socket,
    loop: asyncio.AbstractEventLoop,
    *,
    seconds: float = LINGER_S,
    max_bytes: int = LINGER_BYTES,
) -> socket.socket | None:
    """End our side of ``raw``'s connection and drop its input until the client closes, ``seconds``
    pass or ``max_bytes`` have come; then close.

    Works on a duplicate of the descriptor, so the transport that owns ``raw`` may close it at
    once. Returns the duplicate (closed when the lingering ends), or ``None`` when the socket is
    already gone.
    """
    try:
        sock = socket.fromfd(raw.fileno(), raw.family, raw.type)  # a duplicate descriptor
    except OSError:
        return None
    sock.setblocking(False)
    fd = sock.fileno()
    budget = [max_bytes]

    def done() -> None:
        if sock.fileno() < 0:
            return
        loop.remove_reader(fd)
        timer.cancel()
        sock.close()

    def drain() -> None:
        try:
            while budget[0] > 0:
                data = sock.recv(1 << 16)
                if not data:
                    break  # the client closed too
                budget[0] -= len(data)
        except BlockingIOError:
            return  # nothing more now; wait for more or for the time to end
        except OSError:
            pass
        done()

    try:
        sock.shutdown(socket.SHUT_WR)  # the answer, then the end: the client reads both
    except OSError:
        sock.close()
        return None
    timer = loop.call_later(seconds, done)
    loop.add_reader(fd, drain)
    with contextlib.suppress(OSError):
        drain()
    return sock
