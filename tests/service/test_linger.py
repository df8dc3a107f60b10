"""The lingering close: the client reads the answer and the end, however much it still sends,
and a client sending for ever is cut off within the bounds."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest

from service.linger import linger_close


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    return client, server


def test_the_client_gets_the_answer_and_the_end_while_it_still_sends() -> None:
    client, server = tcp_pair()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server.sendall(b"the answer")
        lingering = linger_close(server, loop, seconds=5.0, max_bytes=1 << 30)
        server.close()  # as the transport does; the duplicate lingers
        assert lingering is not None
        client.setblocking(False)
        sent = 0
        with contextlib.suppress(BlockingIOError):
            while sent < 4 << 20:  # megabytes more than any socket buffer: read by the lingering
                sent += client.send(b"x" * (1 << 16))
                await asyncio.sleep(0)
        client.setblocking(True)
        client.settimeout(5.0)
        received = b""
        while chunk := await loop.run_in_executor(None, client.recv, 1 << 16):
            received += chunk
        assert received == b"the answer"  # then the end of stream: no reset
        client.close()
        await asyncio.sleep(0.1)
        assert lingering.fileno() == -1  # the client closed: the lingering ended

    asyncio.run(serve())


@pytest.mark.parametrize(
    ("seconds", "max_bytes"), [(0.5, 1 << 30), (30.0, 1 << 20)], ids=["time-bound", "byte-bound"]
)
def test_a_client_that_sends_for_ever_is_cut_off(seconds: float, max_bytes: int) -> None:
    client, server = tcp_pair()

    async def serve() -> float:
        loop = asyncio.get_running_loop()
        lingering = linger_close(server, loop, seconds=seconds, max_bytes=max_bytes)
        server.close()
        assert lingering is not None
        client.setblocking(False)
        started = time.perf_counter()
        with contextlib.suppress(ConnectionError):
            while time.perf_counter() - started < 5.0:
                with contextlib.suppress(BlockingIOError):
                    client.send(b"x" * (1 << 16))
                await asyncio.sleep(0)
        return time.perf_counter() - started

    assert asyncio.run(serve()) < 2.0  # reset soon after 0.5 s, or after 1 MiB
    client.close()
