"""Raw HTTP/1.1 over loopback for ``bench.hostile``: request builders, a response parser and
``exchange``, one scripted request on its own socket (bytes to send, and pauses between them).

Hostile requests are written byte by byte here rather than with an HTTP client, so they can be
malformed, incomplete or slow on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

HOST = "127.0.0.1"
KEEP_BYTES = 1 << 24  # response bytes kept; the rest is only counted
CONNECT_TIMEOUT_S = 10.0

# Outcomes without an HTTP status line, counted alongside the statuses.
CLOSED = "closed by server"
TIMEOUT = "timeout"
RESET = "reset"
CONNECT_FAILED = "connect failed"
HUNG_UP = "client hung up"

Step = bytes | memoryview | float  # bytes to send, or seconds to pause
BOUNDARY = "songid-hostile-boundary"


def request_head(
    method: str, target: str, headers: Mapping[str, str] | None = None, *, complete: bool = True
) -> bytes:
    """The request line and headers; ``complete=False`` leaves out the blank line that ends them."""
    lines = [f"{method} {target} HTTP/1.1", "Host: x", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + ("\r\n\r\n" if complete else "\r\n")).encode("latin-1")


def post_head(target: str, content_length: int, content_type: str, request_id: str = "") -> bytes:
    """A POST's head; ``request_id`` (sent as X-Request-ID) finds the request in the server's log."""
    headers = {"Content-Type": content_type, "Content-Length": str(content_length), "Connection": "close"}
    return request_head("POST", target, {**headers, **({"X-Request-ID": request_id} if request_id else {})})


def multipart(content: bytes, *, field_name: str = "file", boundary: str = BOUNDARY) -> tuple[bytes, str]:
    """A multipart/form-data body holding ``content`` as one file field, and its content type."""
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field_name}"; filename="upload.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def infer_body(input_name: str, shape: Sequence[int], data: bytes) -> bytes:
    """An Open Inference Protocol request with one FP32 input whose ``data`` is the given JSON text."""
    head = f'{{"inputs":[{{"name":{json.dumps(input_name)},"shape":{json.dumps(list(shape))},'
    return head.encode() + b'"datatype":"FP32","data":[' + data + b"]}]}"


def big_infer_body(input_name: str, shape: Sequence[int], target_bytes: int, pool: int = 1024) -> bytes:
    """A valid inference request of about ``target_bytes``: a flat ``data`` of every value of
    ``shape``, each written with as many digits as it takes to reach that size."""
    n = math.prod(shape)
    overhead = len(infer_body(input_name, shape, b""))
    width = max(3, (target_bytes - overhead + 1) // n - 1)  # n values of `width` chars, n - 1 commas
    values = [(i * 0.6180339887498949) % 1.0 for i in range(min(pool, n))]
    tokens = [f"{v:.{width - 2}f}".encode() for v in values]
    chunk = b",".join(tokens)
    parts = [chunk] * (n // len(tokens))
    if n % len(tokens):
        parts.append(b",".join(tokens[: n % len(tokens)]))
    return infer_body(input_name, shape, b",".join(parts))


def many_inputs_body(count: int) -> bytes:
    """An inference request with ``count`` small inputs, each named differently."""
    one = b'{"name":"in%d","shape":[1],"datatype":"FP32","data":[0]}'
    return b'{"inputs":[' + b",".join(one % i for i in range(count)) + b"]}"


def nested_body(opener: bytes, inner: bytes, closer: bytes, depth: int) -> bytes:
    """``opener * depth + inner + closer * depth``: JSON nested ``depth`` levels deep."""
    return opener * depth + inner + closer * depth


def pieces(data: bytes, size: int) -> Iterator[memoryview]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield view[start : start + size]


def drip(data: bytes, *, bytes_per_s: float, step_bytes: int = 5) -> Iterator[Step]:
    """``data`` sent ``step_bytes`` at a time at ``bytes_per_s``."""
    for piece in pieces(data, step_bytes):
        yield piece
        yield step_bytes / bytes_per_s


@dataclass(frozen=True)
class Reply:
    """What one request got: an HTTP status (as text) or one of the pseudo-statuses above."""

    status: str
    seconds: float  # from the connection's opening to the outcome
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    body_size: int = 0

    @property
    def is_json(self) -> bool:
        try:
            json.loads(self.body)
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class Parsed:
    status: str
    headers: dict[str, str]
    body: bytes
    complete: bool


def parse_response(raw: bytes, *, head_request: bool = False, at_eof: bool = False) -> Parsed | None:
    """The response in ``raw`` (None until its headers have arrived).

    ``complete`` once the body announced by Content-Length (or a chunked body's last chunk)
    is in, or at end of stream for a body of neither kind.
    """
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = raw[:end].decode("latin-1").split("\r\n")
    words = lines[0].split(" ", 2)
    status = words[1] if len(words) > 1 and words[0].startswith("HTTP/") else "unparsed"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = raw[end + 4 :]
    if head_request or status in ("204", "304") or status.startswith("1"):
        return Parsed(status, headers, b"", True)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        decoded, done = _dechunk(body)
        return Parsed(status, headers, decoded, done or at_eof)
    length = headers.get("content-length", "")
    if length.isdigit():
        return Parsed(status, headers, body[: int(length)], len(body) >= int(length) or at_eof)
    return Parsed(status, headers, body, at_eof)


def _dechunk(body: bytes) -> tuple[bytes, bool]:
    out, at = bytearray(), 0
    while True:
        line_end = body.find(b"\r\n", at)
        if line_end < 0:
            return bytes(out), False
        try:
            size = int(body[at:line_end].split(b";")[0], 16)
        except ValueError:
            return bytes(out), True
        if size == 0:
            return bytes(out), body.find(b"\r\n", line_end + 2) >= 0
        out += body[line_end + 2 : line_end + 2 + size]
        at = line_end + 2 + size + 2
        if at > len(body):
            return bytes(out), False


def reply_from(raw: bytes, seconds: float, *, head_request: bool = False, size: int | None = None) -> Reply:
    """The Reply for what arrived before the stream ended (``size``: bytes received, when more
    than ``raw`` kept); no bytes at all is ``closed by server``."""
    parsed = parse_response(raw, head_request=head_request, at_eof=True)
    if parsed is None:
        return Reply(CLOSED if not raw else "unparsed", seconds, body_size=size or len(raw))
    length = parsed.headers.get("content-length", "")
    if length.isdigit() and not head_request:
        body_size = int(length)
    else:
        body_size = (size or len(raw)) - (raw.find(b"\r\n\r\n") + 4)
    return Reply(parsed.status, seconds, parsed.headers, parsed.body, body_size)


class _Received:
    def __init__(self) -> None:
        self.raw = bytearray()
        self.size = 0


async def _read_response(reader: asyncio.StreamReader, received: _Received, head_request: bool) -> None:
    """Read until the response is complete or the server closes the stream."""
    while data := await reader.read(1 << 16):
        received.size += len(data)
        if len(received.raw) < KEEP_BYTES:
            received.raw += data
        parsed = parse_response(bytes(received.raw), head_request=head_request)
        if parsed is not None and parsed.complete:
            return


async def _send(writer: asyncio.StreamWriter, script: Iterable[Step], response: asyncio.Task[None]) -> None:
    for step in script:
        if response.done():
            return
        if isinstance(step, float):
            await asyncio.wait({response}, timeout=step)
        else:
            writer.write(step)
            await writer.drain()


async def exchange(
    port: int,
    script: Iterable[Step],
    *,
    wait_s: float,
    head_request: bool = False,
    hang_up: bool = False,
    connect_gate: asyncio.Semaphore | None = None,
) -> Reply:
    """Open a connection, play ``script`` and read the answer, for at most ``wait_s`` seconds.

    With ``hang_up`` the client closes the connection once the script is played, without
    waiting for an answer. ``connect_gate`` bounds how many connections are being opened at once.
    """
    loop = asyncio.get_running_loop()
    async with connect_gate or contextlib.nullcontext():
        try:
            async with asyncio.timeout(min(wait_s, CONNECT_TIMEOUT_S)):
                reader, writer = await asyncio.open_connection(HOST, port)
        except (OSError, TimeoutError):
            return Reply(CONNECT_FAILED, 0.0)
    start = loop.time()
    received = _Received()
    response = asyncio.create_task(_read_response(reader, received, head_request))
    try:
        async with asyncio.timeout_at(start + wait_s):
            with contextlib.suppress(ConnectionError):  # the server stopped reading; its answer follows
                await _send(writer, script, response)
            if hang_up:
                return Reply(HUNG_UP, loop.time() - start)
            await response
    except TimeoutError:
        return Reply(TIMEOUT, loop.time() - start, body_size=received.size)
    except ConnectionError:
        if not received.raw:
            return Reply(RESET, loop.time() - start)
    finally:
        response.cancel()
        writer.close()
    return reply_from(bytes(received.raw), loop.time() - start, head_request=head_request, size=received.size)
