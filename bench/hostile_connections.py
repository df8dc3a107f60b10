"""The attacks of ``bench.hostile`` on the connection itself (issue classes 1-5): /v2 bodies
whose structure, not size, is the weapon; bodies that go on after an early answer; a body
framed twice with a request hidden after it; heads over the limits in one write; and clients
that pipeline requests and never read. Each is bounded in count and time by a :class:`Scale`."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.hostile_attacks import Check, Group, Outcome, Scale, Target, chunked, one_group, zeros_body
from bench.hostile_watch import Observed
from bench.hostile_wire import CLOSED, HOST, TIMEOUT, Reply, exchange, infer_body, post_head, request_head

HIDDEN = b"GET /labels HTTP/1.1\r\nHost: x\r\n\r\n"  # a second request after a body
PIPELINED = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"  # about 37 KB of answer each
PIPELINE_DEPTH = 400
KEEP = 1 << 16  # answer bytes kept per connection (the rest is counted)
HEALTHZ_P99_S = 0.1
RSS_GROWTH = 2.0  # peak RSS under this many times the RSS before the attack


@dataclass(frozen=True)
class Raw:
    """What one raw connection got: every status line, whether the server ended the connection
    (and after how long), and the body bytes the client managed to send."""

    statuses: list[str]
    closed: bool
    seconds: float
    sent: int
    head: bytes  # the first answer's head and the start of its body

    def reply(self) -> Reply:
        status = self.statuses[0] if self.statuses else (CLOSED if self.closed else TIMEOUT)
        body = self.head.partition(b"\r\n\r\n")[2]
        return Reply(status, self.seconds, body=body, body_size=len(body))


STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3}) ")


def status_lines(data: bytes) -> list[str]:
    """Every answer's status in ``data`` (a second answer may follow a body on the same line)."""
    return [status.decode() for status in STATUS_LINE.findall(data)]


async def raw(port: int, head: bytes, chunk: bytes = b"", *, wait_s: float) -> Raw:
    """Send ``head``, then ``chunk`` again and again (if any) until the server ends the connection
    or ``wait_s`` passes, reading all the while."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection(HOST, port)
    start = loop.time()
    received = bytearray()
    ended: list[float] = []

    async def read() -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(1 << 16):
                if len(received) < KEEP:
                    received.extend(data)
        ended.append(loop.time() - start)

    reading = asyncio.create_task(read())
    sent = 0
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(wait_s):
            writer.write(head)
            await writer.drain()
            while chunk and not reading.done():
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
            await reading
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(reading), 1.0)  # an answer already on its way
    reading.cancel()
    writer.close()
    data = bytes(received)
    return Raw(status_lines(data), bool(ended), ended[0] if ended else loop.time() - start, sent, data[:2048])


def answered_once(replies: Sequence[Raw], status: str) -> bool:
    """Each connection got exactly one answer, ``status`` with ``Connection: close``, then was closed."""
    return all(
        r.statuses == [status] and r.closed and b"connection: close" in r.head.lower() for r in replies
    )


def raw_group(what: str, sent: str, replies: list[Raw], status: str) -> Group:
    ok = answered_once(replies, status)
    return Group(what, sent, [r.reply() for r in replies], f"one {status}, then closed", ok)


def _nested_segment(shape: Sequence[int]) -> bytes:
    """One segment of zeros as nested lists ``[[[0], ...], ...]`` of ``shape``."""
    inner = b"[" + b",".join([b"0"] * shape[-1]) + b"]"
    for size in reversed(shape[:-1]):
        inner = b"[" + b",".join([inner] * size) + b"]"
    return inner[1:-1]


async def v2_structure(t: Target, s: Scale) -> Outcome:
    """Class 1: /v2 bodies whose structure is the weapon, sent back to back for ``structure_s``."""
    infer = f"/v2/models/{t.model}/infer"
    n = math.prod(t.input_shape)
    one = [1, *t.input_shape]
    bodies = {
        f"{s.empty_objects:,} empty objects as inputs": b'{"inputs":['
        + b",".join([b"{}"] * s.empty_objects)
        + b"]}",
        f"{s.empty_objects:,} empty arrays as inputs": b'{"inputs":['
        + b",".join([b"[]"] * s.empty_objects)
        + b"]}",
        "booleans as FP32 data": infer_body(t.input_name, one, b",".join([b"true"] * n)),
        "strings as FP32 data": infer_body(t.input_name, one, b",".join([b'"0"'] * n)),
        "nested lists as FP32 data": infer_body(t.input_name, one, _nested_segment(t.input_shape)),
    }
    replies: dict[str, list[Reply]] = {what: [] for what in bodies}
    give_up = time.monotonic() + s.structure_s

    async def sender() -> None:
        while time.monotonic() < give_up:
            for what, body in bodies.items():
                script = [post_head(infer, len(body), "application/json"), body]
                replies[what].append(await exchange(t.port, script, wait_s=s.request_wait_s))

    await asyncio.gather(*(sender() for _ in range(2)))
    groups = []
    for what, body in bodies.items():
        got = replies[what]
        ok = all(r.status == "400" and r.is_json for r in got)
        groups.append(Group(what, f"{len(got)} bodies of {len(body):,} bytes", got, "400 JSON", ok))
    facts = [f"Two clients sent these bodies back to back for {s.structure_s:g} s."]
    return Outcome(groups, facts, [one_group(groups, "every body refused with a 400 JSON")])


def _declared(content_type: str, length: int = 900_000_000) -> bytes:
    """A keep-alive POST /predict head (no ``Connection: close``: the server must choose to close)."""
    return request_head("POST", "/predict", {"Content-Type": content_type, "Content-Length": str(length)})


async def early_answer(t: Target, s: Scale) -> Outcome:
    """Class 2: bodies that go on after the server has answered."""
    chunk = chunked(b"0" * (1 << 16))[:-5]  # one 64 KiB chunk, without the terminator
    plain = b"0" * (1 << 16)
    multipart = "multipart/form-data; boundary=b"
    te = {"Transfer-Encoding": "chunked"}
    cases = [
        (
            "chunked endlessly to an unknown model",
            request_head("POST", "/v2/models/nope/infer", te),
            chunk,
            "404",
        ),
        (
            "chunked endlessly to /v2 infer",
            request_head("POST", f"/v2/models/{t.model}/infer", te),
            chunk,
            "413",
        ),
        ("900 MB declared, text/plain, to /predict", _declared("text/plain"), plain, "415"),
        ("900 MB declared to /predict", _declared(multipart), plain, "413"),
    ]
    groups, sent = [], []
    for what, head, body, status in cases:
        replies = await asyncio.gather(
            *(raw(t.port, head, body, wait_s=s.early_s) for _ in range(s.early_clients))
        )
        groups.append(
            raw_group(what, f"{s.early_clients} clients, for up to {s.early_s:g} s", replies, status)
        )
        sent.append(f"{what}: {max(r.sent for r in replies) / 1e6:.1f} MB")
    facts = [
        "Body bytes a client sent before the server closed (most of any client, socket buffers "
        f"included): {'; '.join(sent)}"
    ]
    return Outcome(groups, facts, [one_group(groups, "one answer, then closed, the rest unread")])


async def smuggle(t: Target, s: Scale) -> Outcome:
    """Class 3: Transfer-Encoding with Content-Length, and a request hidden after the body."""
    body = chunked(zeros_body(t))
    head = request_head(
        "POST",
        f"/v2/models/{t.model}/infer",
        {"Transfer-Encoding": "chunked", "Content-Length": str(len(body))},
    )
    replies = [await raw(t.port, head + body + HIDDEN, wait_s=5.0) for _ in range(s.smuggle_requests)]
    group = raw_group(
        "chunked body with Content-Length, then GET /labels", f"{len(replies)} connections", replies, "400"
    )
    return Outcome([group], [], [one_group([group], "400, closed, the hidden request never answered")])


async def big_heads(t: Target, s: Scale) -> Outcome:
    """Class 4: heads over the limits, each in one write."""
    many = b"\r\n".join(b"X-%d: a" % i for i in range(10_000))
    heads = {
        "10,000 header fields in one write": b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n\r\n",
        "one 100 KB header field in one write": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
        + b"a" * 100_000
        + b"\r\n\r\n",
    }
    groups = []
    for what, head in heads.items():
        replies = [await raw(t.port, head, wait_s=5.0) for _ in range(s.head_requests)]
        groups.append(raw_group(what, f"{len(replies)} heads of {len(head):,} bytes", replies, "400"))
    return Outcome(groups, [], [one_group(groups, "every head refused with 400, closed")])


async def _never_read(port: int, hold_s: float) -> Raw:
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, as a slow reader
    sock.setblocking(False)
    await loop.sock_connect(sock, (HOST, port))
    start = loop.time()
    data = PIPELINED * PIPELINE_DEPTH
    with contextlib.suppress(TimeoutError, OSError):  # the server stops reading, or closes
        await asyncio.wait_for(loop.sock_sendall(sock, data), hold_s)
    await asyncio.sleep(max(0.0, hold_s - (loop.time() - start)))
    received, closed = 0, False
    try:
        while True:  # now read what is there: an end of stream means the server had closed
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), 1.0)
            if not chunk:
                closed = True
                break
            received += len(chunk)
    except ConnectionError:
        closed = True
    except TimeoutError:
        pass
    sock.close()
    return Raw([], closed, loop.time() - start, received, b"")


async def no_read(t: Target, s: Scale) -> Outcome:
    """Class 5: clients that pipeline requests with large answers and read none of them."""
    replies = await asyncio.gather(*(_never_read(t.port, s.no_read_hold_s) for _ in range(s.no_read_clients)))
    closed = sum(r.closed for r in replies)
    group = Group(
        f"{PIPELINE_DEPTH} pipelined GET /openapi.json, answers never read",
        f"{s.no_read_clients} clients held {s.no_read_hold_s:g} s",
        [r.reply() for r in replies],
        "closed by the server before the hold ends",
        closed == len(replies),
    )
    facts = [f"Closed by the server within the hold: {closed} of {len(replies)}"]
    return Outcome([group], facts, [Check("every client that never read was closed", closed == len(replies))])


def server_errors(seen: Observed, outcome: Outcome) -> int:
    """Answers 5xx other than 503, in the server's access log and in what the attack got."""
    logged = sum(n for status, n in seen.log.statuses.items() if status >= 500 and status != 503)
    got = sum(
        1
        for group in outcome.groups
        for reply in group.replies
        if reply.status.isdigit() and int(reply.status) >= 500 and reply.status != "503"
    )
    return logged + got


def connection_checks(seen: Observed, outcome: Outcome) -> list[Check]:
    """The targets of classes 1-5: /healthz p99, memory, and no 5xx but 503 (the normal
    client's 2 x is among the common checks)."""
    p99 = seen.healthz_p99
    errors = server_errors(seen, outcome)
    before, peak = seen.rss_start, seen.rss_peak
    return [
        Check(
            f"healthz p99 within {HEALTHZ_P99_S * 1000:.0f} ms",
            not math.isnan(p99) and p99 <= HEALTHZ_P99_S,
            f"{p99 * 1000:.0f} ms",
        ),
        Check(
            f"peak RSS under {RSS_GROWTH:g} x before",
            0 < peak < RSS_GROWTH * before,
            f"{peak / 1e6:.0f} of {before / 1e6:.0f} MB before ({peak / max(before, 1):.2f} x)",
        ),
        Check("no 5xx but 503", errors == 0, f"{errors}"),
    ]
