"""The HTTP server's own limits: request-head timeout, connection cap, JSON for bad heads, quiet logs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.logging import RepeatFilter
from service.protocol import raw_response
from service.server import FD_RESERVE, connection_cap
from tests.processes import free_port, server_process, wait_ready
from tests.service.samples import encode
from tests.service.test_main import REPO_ROOT, serve_command, server_env

HALF_OPEN = b"GET /labels HTTP/1.1\r\nHost: x\r\n"  # the head never ends


def test_connection_cap_stays_below_the_descriptor_limit() -> None:
    assert connection_cap(0, 20_000) == 20_000 - FD_RESERVE
    assert connection_cap(500, 20_000) == 500
    assert connection_cap(50_000, 20_000) == 20_000 - FD_RESERVE
    assert connection_cap(0, 100) == 16


def test_raw_response_is_a_whole_json_answer() -> None:
    head, _, body = raw_response(408, "request_timeout", "too slow").partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert f"content-length: {len(body)}".encode() in head
    assert json.loads(body) == {"error": {"code": "request_timeout", "message": "too slow"}}


def test_repeat_filter_passes_once_per_interval_and_counts_the_rest() -> None:
    repeat = RepeatFilter(interval_s=0.2)

    def record() -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "accept() failed", None, None)

    assert repeat.filter(record())
    assert [repeat.filter(record()) for _ in range(500)] == [False] * 500
    time.sleep(0.25)
    later = record()
    assert repeat.filter(later)
    assert "500 more like this" in later.getMessage()


@pytest.fixture
def guarded_server(
    model_repo: Path, tmp_path: Path
) -> Iterator[tuple[str, int, subprocess.Popen[bytes], Path]]:
    port = free_port()
    log_path = tmp_path / "server.log"
    env = server_env(model_repo, port, SONGID_HEADER_TIMEOUT_S="1.5", SONGID_MAX_CONNECTIONS="300")
    with server_process(serve_command(), env=env, cwd=REPO_ROOT, log_path=log_path) as process:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, process, log_path)
        yield base, port, process, log_path


async def _half_open(port: int, count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    sockets = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HALF_OPEN)
        sockets.append((reader, writer))
    await asyncio.gather(*(writer.drain() for _, writer in sockets))
    return sockets


async def _answer(reader: asyncio.StreamReader, timeout_s: float) -> bytes:
    """Everything the server sends until it closes (``b""`` when it says nothing in time)."""
    try:
        return await asyncio.wait_for(reader.read(), timeout_s)
    except (TimeoutError, ConnectionError):
        return b""


@pytest.mark.slow
def test_half_open_connections_neither_starve_the_service_nor_stay(
    guarded_server: tuple[str, int, subprocess.Popen[bytes], Path],
) -> None:
    base, port, process, log_path = guarded_server
    log_before = log_path.stat().st_size

    async def attack() -> tuple[list[bytes], list[float], int]:
        sockets = await _half_open(port, 600)  # twice the cap: the oldest waiting are closed for room
        latencies = []
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            for _ in range(5):
                started = time.perf_counter()
                assert (await client.get("/healthz")).status_code == 200
                latencies.append(time.perf_counter() - started)
            files = {"file": ("song.wav", encode("wav", seconds=4.0), "audio/wav")}
            predicted = (await client.post("/predict", files=files)).status_code
        answers = await asyncio.gather(*(_answer(reader, 5.0) for reader, _ in sockets))
        for _, writer in sockets:
            writer.close()
        return answers, latencies, predicted

    answers, latencies, predicted = asyncio.run(attack())
    assert predicted == 200
    assert max(latencies) < 1.0
    timed_out = [a for a in answers if a.startswith(b"HTTP/1.1 408")]
    evicted = [a for a in answers if a.startswith(b"HTTP/1.1 503")]
    assert len(timed_out) + len(evicted) == 600  # every one was answered and closed by the server
    assert evicted and timed_out
    assert json.loads(timed_out[0].partition(b"\r\n\r\n")[2])["error"]["code"] == "request_timeout"
    assert process.poll() is None
    assert log_path.stat().st_size - log_before < 20_000  # a few lines, not one per socket


@pytest.mark.slow
def test_a_server_that_fell_behind_still_answers_every_connection_it_closes(
    guarded_server: tuple[str, int, subprocess.Popen[bytes], Path],
) -> None:
    """Connections accepted and evicted in one loop turn (their input unread) get the 503, not a reset."""
    _, port, process, _ = guarded_server

    async def attack() -> list[bytes]:
        os.kill(process.pid, signal.SIGSTOP)  # the kernel queues the connections; nobody accepts
        resume = asyncio.get_running_loop().call_later(1.0, os.kill, process.pid, signal.SIGCONT)
        try:
            sockets = await _half_open(port, 600)  # all queued while the listen backlog holds them
            await asyncio.sleep(1.0)
        finally:
            resume.cancel()
            os.kill(process.pid, signal.SIGCONT)
        answers = await asyncio.gather(*(_answer(reader, 10.0) for reader, _ in sockets))
        for _, writer in sockets:
            writer.close()
        return answers

    statuses = [answer[:12].decode() for answer in asyncio.run(attack())]
    assert set(statuses) == {"HTTP/1.1 408", "HTTP/1.1 503"}  # the cap was reached; no reset, no silence


@pytest.mark.slow
def test_a_head_over_the_size_limit_sent_in_pieces_gets_a_json_400(
    guarded_server: tuple[str, int, subprocess.Popen[bytes], Path],
) -> None:
    _, port, _, _ = guarded_server

    async def send() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /labels?q=")
        answer = b""
        for _ in range(25):  # 100 KB in pieces, each read by the server before the next is sent
            writer.write(b"a" * 4_000)
            await writer.drain()
            answer = await _answer(reader, 0.05)
            if answer:
                break
        writer.close()
        return answer

    answer = asyncio.run(send())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == "invalid_http"


@pytest.mark.slow
def test_slow_uploads_hold_no_prediction_slot(model_repo: Path, tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "server.log"
    env = server_env(
        model_repo,
        port,
        SONGID_MAX_CONCURRENT_REQUESTS="1",
        SONGID_MAX_QUEUED_REQUESTS="0",  # any slot held by a slow client would turn /predict into 503
        SONGID_UPLOAD_IDLE_TIMEOUT_S="1",
    )
    head = (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n\r\n--b\r\n"
        b'Content-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    )

    async def attack(base: str) -> tuple[list[bytes], list[int]]:
        slow = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        for _, writer in slow:
            writer.write(head + b"RIFF")  # then silence
        statuses = []
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            for _ in range(2):
                files = {"file": ("song.flac", encode("flac", seconds=4.0), "audio/flac")}
                statuses.append((await client.post("/predict", files=files)).status_code)
        answers = await asyncio.gather(*(_answer(reader, 5.0) for reader, _ in slow))
        for _, writer in slow:
            writer.close()
        return answers, statuses

    with server_process(serve_command(), env=env, cwd=REPO_ROOT, log_path=log_path) as process:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, process, log_path)
        answers, statuses = asyncio.run(attack(base))
    assert statuses == [200, 200]
    for answer in answers:
        head_part, _, body = answer.partition(b"\r\n\r\n")
        assert head_part.startswith(b"HTTP/1.1 408")
        assert json.loads(body)["error"]["code"] == "request_timeout"
