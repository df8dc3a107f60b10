"""Reading a request body: the cap, the idle timeout, the minimum rate and a vanished client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from service.body import BodyLimits, body_chunks, spool_body, spool_factory
from service.errors import BodyTimeoutError, InvalidInputError, PayloadTooLargeError
from tests.service.test_upload import make_request


class PacedClient:
    """An ASGI receive() sending ``chunks`` pieces of ``size`` bytes, ``pause_s`` apart.

    Then the body ends, or (``stall``) nothing more comes, or (``vanish``) the client disconnects.
    """

    def __init__(
        self, *, chunks: int, size: int = 100, pause_s: float = 0.0, stall: bool = False, vanish: bool = False
    ) -> None:
        self.left, self.size, self.pause_s, self.stall, self.vanish = chunks, size, pause_s, stall, vanish

    async def receive(self) -> dict[str, Any]:
        await asyncio.sleep(self.pause_s)
        if self.left == 0:
            if self.stall:
                await asyncio.sleep(3600)
            return {"type": "http.disconnect"}
        self.left -= 1
        more = self.left > 0 or self.stall or self.vanish
        return {"type": "http.request", "body": b"x" * self.size, "more_body": more}


def read(client: PacedClient, limits: BodyLimits, headers: dict[str, str] | None = None) -> bytes:
    async def whole() -> bytes:
        return b"".join(
            [chunk async for chunk in body_chunks(make_request(client.receive, headers or {}), limits)]
        )

    return asyncio.run(whole())


def test_a_body_within_the_limits_is_read_whole() -> None:
    limits = BodyLimits(max_bytes=1000, idle_timeout_s=1.0, min_bytes_per_s=100)
    assert read(PacedClient(chunks=5), limits) == b"x" * 500


def test_a_stalled_body_times_out_with_408() -> None:
    limits = BodyLimits(max_bytes=10_000, idle_timeout_s=0.2)
    with pytest.raises(BodyTimeoutError, match=r"no request body bytes for 0\.2 s \(300 received\)") as info:
        read(PacedClient(chunks=3, stall=True), limits, {"content-length": "5000"})
    assert info.value.status_code == 408


def test_a_body_slower_than_the_minimum_rate_is_cut_off_after_the_grace_period() -> None:
    limits = BodyLimits(max_bytes=1 << 20, idle_timeout_s=0.2, min_bytes_per_s=10_000)
    with pytest.raises(BodyTimeoutError, match=r"below the minimum of 10000 bytes/s"):
        read(PacedClient(chunks=100, size=5, pause_s=0.02), limits)  # ~250 bytes/s, never idle 0.2 s


def test_the_cap_counts_received_and_declared_bytes() -> None:
    limits = BodyLimits(max_bytes=250, idle_timeout_s=1.0)
    with pytest.raises(PayloadTooLargeError, match="limit of 250 bytes"):
        read(PacedClient(chunks=5), limits)
    with pytest.raises(PayloadTooLargeError, match="body of 251 bytes"):
        read(PacedClient(chunks=1), limits, {"content-length": "251"})
    with pytest.raises(InvalidInputError, match="invalid Content-Length"):
        read(PacedClient(chunks=1), limits, {"content-length": "12, 12"})


def test_a_client_gone_mid_body_is_a_400_not_a_500() -> None:
    limits = BodyLimits(max_bytes=10_000, idle_timeout_s=1.0)
    with pytest.raises(InvalidInputError, match="disconnected before the end"):
        read(PacedClient(chunks=2, vanish=True), limits, {"content-length": "5000"})


def test_a_spooled_body_reads_from_the_start_and_is_closed_on_failure(tmp_path: Path) -> None:
    made: list[BinaryIO] = []
    make = spool_factory(max_memory_bytes=150, tmp_dir=tmp_path)

    def recording() -> BinaryIO:
        made.append(make())
        return made[-1]

    limits = BodyLimits(max_bytes=1000, idle_timeout_s=1.0)
    request = make_request(PacedClient(chunks=5).receive, {})
    spooled = asyncio.run(spool_body(request, limits, recording))
    assert spooled.read() == b"x" * 500
    spooled.close()
    stalled = make_request(PacedClient(chunks=2, vanish=True).receive, {})
    with pytest.raises(InvalidInputError):
        asyncio.run(spool_body(stalled, limits, recording))
    assert len(made) == 2 and all(f.closed for f in made)
