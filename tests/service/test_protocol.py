"""The connection limits of the server's protocol, over raw sockets against a real server:
early answers close, a body framed twice closes, head limits hold however the head arrives,
and clients that never read their answers are closed and make room."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.protocol import ConnectionLimits, head_problem
from tests.processes import free_port, server_process, wait_ready
from tests.service.test_main import REPO_ROOT, serve_command, server_env

LIMITS = ConnectionLimits(max_header_bytes=100, max_header_fields=3)


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", None),
        (b"GET / HTTP/1.1\r\nHost: x\r\n", None),  # not complete yet, within the limits
        (b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\nbody bytes are not the head's", None),
        (b"GET / HTTP/1.1\nA: 1\nB: 2\nC: 3\nD: 4\n\n", "more than 3 header fields"),
        (b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", "more than 3 header fields"),  # so far
        (b"GET /" + b"a" * 100 + b" HTTP/1.1\r\n\r\n", "larger than 100 bytes"),  # whole
        (b"GET /" + b"a" * 100, "larger than 100 bytes"),  # in pieces: no end in sight
    ],
)
def test_head_problems(head: bytes, problem: str | None) -> None:
    found = head_problem(head, LIMITS)
    assert found == problem if problem is None else problem in (found or "")


@pytest.fixture
def server(model_repo: Path, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    log_path = tmp_path / "server.log"
    env = server_env(model_repo, port, SONGID_SEND_TIMEOUT_S="1", SONGID_MAX_CONNECTIONS="24")
    with server_process(serve_command(), env=env, cwd=REPO_ROOT, log_path=log_path) as process:
        wait_ready(f"http://127.0.0.1:{port}", process, log_path)
        yield port, process


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_all(sock: socket.socket, seconds: float = 5.0) -> bytes:
    """Everything the server sends until it closes (or resets) the connection, or ``seconds``."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(1 << 16):
            data += chunk
    except (TimeoutError, ConnectionError):
        pass
    return data


def send_endlessly(sock: socket.socket, head: bytes, chunk: bytes, seconds: float) -> int:
    """Send ``head`` then ``chunk`` over and over for ``seconds`` or until the server stops it;
    returns the body bytes sent."""
    sock.sendall(head)
    sent = 0
    sock.settimeout(0.2)
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        try:
            sock.sendall(chunk)
        except TimeoutError:
            continue  # the server is not reading (yet)
        except OSError:
            break  # closed or reset: the server stopped reading
        sent += len(chunk)
    return sent


def statuses(data: bytes) -> list[bytes]:
    return [line[:12] for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


@pytest.mark.slow
def test_early_answers_close_the_connection_unread(server: tuple[int, subprocess.Popen[bytes]]) -> None:
    port, _ = server
    piece = b"%x\r\n%s\r\n" % (1 << 16, b"0" * (1 << 16))
    multipart = b"multipart/form-data; boundary=b"
    cases = [
        (b"/v2/models/nope/infer", b"Transfer-Encoding: chunked", 404),
        (b"/predict", b"Content-Type: text/plain\r\nContent-Length: 900000000", 415),
        (b"/predict", b"Content-Type: %s\r\nContent-Length: 900000000" % multipart, 413),
    ]
    for path, framing, status in cases:
        head = b"POST %s HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n" % (path, framing)
        with connect(port) as sock:
            sent = send_endlessly(sock, head, piece if b"chunked" in head else b"0" * (1 << 16), 3.0)
            answer = read_all(sock)
        assert statuses(answer) == [f"HTTP/1.1 {status}".encode()], answer[:300]  # one answer, no 408
        assert b"connection: close" in answer.lower()
        assert sent < 64 << 20  # socket buffers; 3 s at loopback speed would be gigabytes


@pytest.mark.slow
def test_a_body_framed_twice_is_refused_and_what_follows_never_runs(
    server: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, _ = server
    smuggled = b"GET /labels HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"5\r\nhello\r\n0\r\n\r\n"
    head = (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    with connect(port) as sock:
        sock.sendall(head + body + smuggled)
        answer = read_all(sock)
    assert statuses(answer) == [b"HTTP/1.1 400"]
    assert b"connection: close" in answer.lower()


@pytest.mark.slow
@pytest.mark.parametrize(
    "fields",
    [[b"X-%d: a" % i for i in range(10_000)], [b"X-Big: " + b"a" * 100_000]],
    ids=["10000-fields", "one-100KB-field"],
)
def test_head_limits_hold_when_the_head_comes_in_one_write(
    server: tuple[int, subprocess.Popen[bytes]], fields: list[bytes]
) -> None:
    port, _ = server
    head = b"\r\n".join([b"GET /healthz HTTP/1.1", b"Host: x", *fields]) + b"\r\n\r\n"
    with connect(port) as sock:
        sock.sendall(head)
        answer = read_all(sock)
    assert statuses(answer) == [b"HTTP/1.1 400"]
    error = json.loads(answer.partition(b"\r\n\r\n")[2])["error"]
    assert error["code"] == "invalid_http"
    assert "header fields" in error["message"] or "larger than 16384 bytes" in error["message"]


@pytest.mark.slow
def test_clients_that_never_read_are_closed_and_make_room(
    server: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, process = server
    requests = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * 400  # megabytes of answers
    readers = []
    for _ in range(24):  # the cap
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
        sock.connect(("127.0.0.1", port))
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # as much as the socket takes
            sock.send(requests)
        readers.append(sock)
    try:
        # Busy at first (every connection has a request in progress: 503), until their answers
        # fill the sockets' buffers; then a stalled connection is closed to make room, or
        # times out (1 s). Before the send timeout they were held for good.
        answered = []
        give_up = time.monotonic() + 5.0
        while time.monotonic() < give_up and 200 not in answered:
            answered.append(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code)
            time.sleep(0.1)
        assert answered[-1] == 200 and set(answered) <= {200, 503}, answered
        time.sleep(2.0)  # past the 1 s send timeout: every connection stalled is closed
        closed = 0
        for sock in readers:
            sock.setblocking(True)
            sock.settimeout(2.0)
            try:
                while sock.recv(1 << 20):
                    pass
                closed += 1  # the server's end came after what it had sent
            except ConnectionError:
                closed += 1
            except TimeoutError:
                pass
        assert closed == len(readers)
        assert process.poll() is None
    finally:
        for sock in readers:
            sock.close()
