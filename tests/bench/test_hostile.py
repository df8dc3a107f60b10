"""The hostile-client harness's own parts: request builders, response parsing, the scripted
exchange against a tiny local server, and log reading."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bench.hostile_watch import LogDelta
from bench.hostile_wire import (
    CLOSED,
    HUNG_UP,
    RESET,
    TIMEOUT,
    Reply,
    big_infer_body,
    drip,
    exchange,
    infer_body,
    many_inputs_body,
    multipart,
    nested_body,
    parse_response,
    post_head,
    reply_from,
    request_head,
)

# -- request builders --------------------------------------------------------------------------


def test_a_half_open_head_never_ends_its_headers() -> None:
    assert request_head("GET", "/labels", complete=False) == b"GET /labels HTTP/1.1\r\nHost: x\r\n"
    assert request_head("HEAD", "/healthz").endswith(b"Host: x\r\n\r\n")


def test_post_head_declares_the_length_and_the_request_id() -> None:
    head = post_head("/predict", 1234, "application/json", "hostile-1").decode()
    assert head.startswith("POST /predict HTTP/1.1\r\n")
    assert "Content-Length: 1234\r\n" in head and "X-Request-ID: hostile-1\r\n" in head
    assert "X-Request-ID" not in post_head("/predict", 1, "text/plain").decode()


def test_multipart_wraps_the_file_in_one_field() -> None:
    body, content_type = multipart(b"RIFF....", boundary="b0")
    assert content_type == "multipart/form-data; boundary=b0"
    assert body.startswith(b'--b0\r\nContent-Disposition: form-data; name="file"; filename="upload.bin"\r\n')
    assert body.endswith(b"\r\n\r\nRIFF....\r\n--b0--\r\n")


def test_the_big_body_is_valid_json_of_the_target_size() -> None:
    body = big_infer_body("mel", [2, 3, 4, 1], 5_000, pool=7)
    request = json.loads(body)
    assert len(request["inputs"][0]["data"]) == 24
    assert request["inputs"][0]["shape"] == [2, 3, 4, 1]
    assert 4_800 <= len(body) <= 5_000


def test_many_inputs_and_nesting() -> None:
    request = json.loads(many_inputs_body(5))
    assert [i["name"] for i in request["inputs"]] == ["in0", "in1", "in2", "in3", "in4"]
    assert nested_body(b"[", b"", b"]", 3) == b"[[[]]]"
    assert nested_body(b'{"a":', b"0", b"}", 2) == b'{"a":{"a":0}}'
    assert json.loads(infer_body("mel", [1, 2], b"1,2")) == {
        "inputs": [{"name": "mel", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]
    }


def test_drip_sends_five_bytes_a_second() -> None:
    steps = list(drip(b"abcdefghijkl", bytes_per_s=5.0))
    assert [bytes(s) for s in steps[::2]] == [b"abcde", b"fghij", b"kl"]  # type: ignore[arg-type]
    assert steps[1::2] == [1.0, 1.0, 1.0]


# -- responses ---------------------------------------------------------------------------------


def test_a_response_is_complete_when_its_content_length_is_in() -> None:
    head = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 4\r\ncontent-type: application/json\r\n\r\n"
    assert parse_response(b"HTTP/1.1 408 Req") is None
    partial = parse_response(head + b"{}")
    assert partial is not None and not partial.complete
    done = parse_response(head + b'{"a"')
    assert done is not None and done.complete and done.status == "408" and done.body == b'{"a"'
    assert done.headers["content-type"] == "application/json"


def test_head_chunked_and_unframed_responses() -> None:
    head_only = parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\n\r\n", head_request=True)
    assert head_only is not None and head_only.complete
    chunks = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    parsed = parse_response(chunks)
    assert parsed is not None and parsed.complete and parsed.body == b"abcde"
    unframed = b"HTTP/1.1 400 Bad Request\r\n\r\nInvalid"
    assert not parse_response(unframed).complete  # type: ignore[union-attr]
    assert parse_response(unframed, at_eof=True).complete  # type: ignore[union-attr]


def test_replies_from_what_arrived() -> None:
    assert reply_from(b"", 1.5).status == CLOSED
    reply = reply_from(b"HTTP/1.1 400 Bad\r\ncontent-length: 2\r\n\r\n{}", 0.1)
    assert (reply.status, reply.body_size, reply.is_json) == ("400", 2, True)
    assert not reply_from(b"HTTP/1.1 400 Bad\r\n\r\nInvalid HTTP request", 0.1).is_json


# -- the exchange, against a local server ------------------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _against(handler: Handler, play: Callable[[int], Awaitable[Reply]]) -> Reply:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await play(port)
    finally:
        server.close()


async def _answer_408(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"Host: x\r\n")
    writer.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 2\r\n\r\n{}")
    await writer.drain()
    writer.close()


async def _close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1)
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()


def test_exchange_reads_an_answer_given_while_the_client_is_still_sending() -> None:
    script = [request_head("GET", "/labels", complete=False), *drip(b"x" * 100, bytes_per_s=1000.0)]
    reply = asyncio.run(_against(_answer_408, lambda port: exchange(port, script, wait_s=5.0)))
    assert reply.status == "408" and reply.is_json and reply.seconds < 5.0


@pytest.mark.parametrize(
    ("handler", "hang_up", "expected"),
    [(_close, False, (CLOSED, RESET)), (_silent, False, (TIMEOUT,)), (_silent, True, (HUNG_UP,))],
)
def test_exchange_pseudo_statuses(handler: Handler, hang_up: bool, expected: tuple[str, ...]) -> None:
    script = [b"GET / HTTP/1.1\r\n"]
    play = lambda port: exchange(port, script, wait_s=0.3, hang_up=hang_up)  # noqa: E731
    assert asyncio.run(_against(handler, play)).status in expected


# -- the log -----------------------------------------------------------------------


def test_the_log_delta_counts_statuses_per_request_and_errors(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    records = [
        {"logger": "uvicorn.error", "level": "info", "message": "started"},
        {"logger": "service.access", "level": "info", "status": 200, "request_id": "a"},
        {"logger": "service.access", "level": "info", "status": 500, "request_id": "hostile-1"},
        {"logger": "service.errors", "level": "error", "message": "boom"},
    ]
    text = "\n".join(json.dumps(r) for r in records) + "\nTraceback (most recent call last):\n"
    log.write_text(text)
    start = len(json.dumps(records[0])) + 1
    delta = LogDelta.read(log, start, len(text))
    assert delta.size == len(text) - start
    assert delta.statuses == Counter({200: 1, 500: 1})
    assert delta.by_request == {"a": [200], "hostile-1": [500]}
    assert delta.errors == 2
