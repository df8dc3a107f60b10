"""Bounded waiting for a prediction slot (SONGID_MAX_QUEUED_REQUESTS)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from service.admission import Limiter
from service.errors import OverloadedError
from tests.service.conftest import AppFactory, upload
from tests.service.test_app import GatedModel, wait_until


@pytest.fixture
def gated(model_repo: Path) -> GatedModel:
    return GatedModel(model_repo)


def test_waiters_get_released_slots_in_arrival_order() -> None:
    async def scenario() -> list[str]:
        limiter = Limiter(1, retry_after_s=2, queue=2)
        first = await limiter.acquire_or_wait()
        order: list[str] = []

        async def wait(name: str) -> None:
            slot = await limiter.acquire_or_wait()
            order.append(name)
            await asyncio.sleep(0.01)
            slot.release()

        tasks = [asyncio.create_task(wait("a"))]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(wait("b")))
        await asyncio.sleep(0)
        assert limiter.waiting == 2
        with pytest.raises(OverloadedError) as info:
            await limiter.acquire_or_wait()  # the line is full
        assert info.value.headers == {"Retry-After": "2"}
        with pytest.raises(OverloadedError):
            limiter.acquire()  # no overtaking of waiting requests
        threading.Thread(target=first.release).start()  # released by a worker thread
        await asyncio.gather(*tasks)
        assert limiter.in_use == 0 and limiter.waiting == 0
        return order

    assert asyncio.run(scenario()) == ["a", "b"]


def test_a_cancelled_wait_leaves_the_line_and_never_leaks_a_slot() -> None:
    async def scenario() -> None:
        limiter = Limiter(1, retry_after_s=1, queue=4)
        held = await limiter.acquire_or_wait()
        gone = asyncio.create_task(limiter.acquire_or_wait())
        await asyncio.sleep(0)
        gone.cancel()  # e.g. the request's deadline passed while waiting
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert limiter.waiting == 0

        late = asyncio.create_task(limiter.acquire_or_wait())
        await asyncio.sleep(0)
        held.release()  # hands the slot to ``late`` ...
        late.cancel()  # ... which gives up before it runs: the slot must come back
        with pytest.raises(asyncio.CancelledError):
            await late
        await asyncio.sleep(0)
        assert limiter.in_use == 0 and limiter.waiting == 0

    asyncio.run(scenario())


def test_without_a_queue_a_full_limiter_refuses_at_once() -> None:
    async def scenario() -> None:
        limiter = Limiter(1, retry_after_s=1)
        slot = await limiter.acquire_or_wait()
        with pytest.raises(OverloadedError):
            await limiter.acquire_or_wait()
        slot.release()
        assert limiter.in_use == 0

    asyncio.run(scenario())


def test_queued_requests_wait_for_a_slot_and_the_next_is_refused(
    make_client: AppFactory, gated: GatedModel, wav_bytes: bytes
) -> None:
    client = make_client(model=gated, max_concurrent_requests=1, max_queued_requests=1)
    limiter = client.app.state.admission.limiter  # type: ignore[attr-defined]
    gated.armed = True
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(upload, client, wav_bytes)
        assert gated.entered.wait(10)
        queued = pool.submit(upload, client, wav_bytes)
        assert wait_until(lambda: limiter.waiting == 1)
        started = time.perf_counter()
        refused = upload(client, wav_bytes)
        assert time.perf_counter() - started < 2
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "overloaded"
        assert "songid_predictions_queued 1.0" in client.get("/metrics").text
        gated.gate.set()
        assert running.result(timeout=30).status_code == 200
        assert queued.result(timeout=30).status_code == 200
    assert limiter.in_use == 0 and limiter.waiting == 0


def test_waiting_counts_towards_the_request_timeout(
    make_client: AppFactory, gated: GatedModel, wav_bytes: bytes
) -> None:
    client = make_client(model=gated, max_concurrent_requests=1, max_queued_requests=1, request_timeout_s=0.5)
    limiter = client.app.state.admission.limiter  # type: ignore[attr-defined]
    gated.armed = True
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(upload, client, wav_bytes)
        assert gated.entered.wait(10)
        started = time.perf_counter()
        waited = upload(client, wav_bytes)
        assert waited.status_code == 504
        assert time.perf_counter() - started < 5
        assert running.result(timeout=30).status_code == 504
    assert wait_until(lambda: limiter.in_use == 0 and limiter.waiting == 0)
