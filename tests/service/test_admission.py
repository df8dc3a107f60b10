"""Admission: slots, the waiting line's refusals, deadlines, and work run in the one pool."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from concurrent.futures import Future
from functools import partial

import pytest

from service.admission import Admission, Limiter, Slot, deadline
from service.cancellation import CancelToken
from service.errors import ModelNotReadyError, OverloadedError, RequestTimeoutError
from service.limits import AnalysisLimits
from service.metrics import Metrics
from service.model import SongModel
from service.pipeline import Pipeline
from tests.service.samples import encode


def test_limiter_refuses_beyond_capacity_and_frees_on_release() -> None:
    seen: list[int] = []
    limiter = Limiter(2, retry_after_s=4, on_change=seen.append)
    first, second = limiter.acquire(), limiter.acquire()
    with pytest.raises(OverloadedError) as info:
        limiter.acquire()
    assert info.value.headers == {"Retry-After": "4"}
    first.release()
    first.release()  # idempotent
    assert limiter.in_use == 1
    third = limiter.acquire()
    second.release()
    third.release()
    assert limiter.in_use == 0
    assert seen == [1, 2, 1, 2, 1, 0]


def test_slot_runs_callbacks_once_even_when_late() -> None:
    calls: list[str] = []
    slot = Slot(lambda: calls.append("limiter"))
    slot.on_release(lambda: calls.append("file"))
    slot.release()
    slot.release()
    slot.on_release(lambda: calls.append("late"))
    assert calls == ["file", "limiter", "late"]


def test_handed_off_slot_is_released_by_the_work_not_the_request() -> None:
    released = threading.Event()
    slot = Slot(released.set)
    future: Future[None] = Future()
    slot.hand_off(future)
    assert slot.handed_off and not released.is_set()
    future.set_result(None)
    assert released.is_set()


def test_deadline_becomes_request_timeout() -> None:
    async def slow() -> None:
        async with deadline(0.05):
            await asyncio.sleep(5)

    started = time.perf_counter()
    with pytest.raises(RequestTimeoutError, match=r"0\.05 s"):
        asyncio.run(slow())
    assert time.perf_counter() - started < 2


def test_admission_refuses_until_started_and_after_shutdown() -> None:
    metrics = Metrics()
    admission = Admission(max_concurrent=1, max_queued=0, retry_after_s=1, metrics=metrics)

    async def admit(*, ready: bool = True) -> None:
        async with admission.admit(ready=ready):
            pass

    with pytest.raises(ModelNotReadyError):
        asyncio.run(admit())
    admission.start()
    asyncio.run(admit())
    with pytest.raises(ModelNotReadyError):
        asyncio.run(admit(ready=False))
    admission.shutdown()
    assert not admission.running
    with pytest.raises(ModelNotReadyError):
        asyncio.run(admit())
    assert 'songid_predictions_rejected_total{reason="not_ready"} 3.0' in metrics.render().decode()


def test_run_releases_the_slot_and_closes_the_file(loaded_model: SongModel) -> None:
    admission = Admission(max_concurrent=2, max_queued=0, retry_after_s=1, metrics=Metrics())
    pipeline = Pipeline(loaded_model, AnalysisLimits(max_duration_s=30.0))
    source = io.BytesIO(encode("ogg", seconds=3.2))

    async def go() -> None:
        admission.start()
        async with admission.admit() as slot:
            slot.on_release(source.close)
            analysis = await admission.run(slot, partial(pipeline.analyse, source))
        assert analysis.n_segments == 1

    try:
        asyncio.run(go())
        deadline_at = time.monotonic() + 5
        while admission.limiter.in_use and time.monotonic() < deadline_at:
            time.sleep(0.01)
        assert admission.limiter.in_use == 0
        assert source.closed
    finally:
        admission.shutdown()


def test_abandoned_work_is_cancelled_and_keeps_its_slot_until_it_stops() -> None:
    admission = Admission(max_concurrent=1, max_queued=0, retry_after_s=1, metrics=Metrics())
    started, stopped = threading.Event(), threading.Event()

    def work(cancel: CancelToken) -> None:
        started.set()
        while not cancel.cancelled:
            time.sleep(0.01)
        time.sleep(0.2)  # stopping takes a while; the slot stays taken meanwhile
        stopped.set()
        cancel.raise_if_cancelled()

    async def go() -> None:
        with pytest.raises(RequestTimeoutError):
            async with deadline(0.1), admission.admit() as slot:
                await admission.run(slot, work)
        assert started.is_set() and not stopped.is_set()
        assert admission.limiter.in_use == 1
        with pytest.raises(OverloadedError):
            async with admission.admit():
                pass

    admission.start()
    try:
        asyncio.run(go())
        assert stopped.wait(5)
        deadline_at = time.monotonic() + 5
        while admission.limiter.in_use and time.monotonic() < deadline_at:
            time.sleep(0.01)
        assert admission.limiter.in_use == 0
    finally:
        admission.shutdown()


def test_others_busy_counts_the_slots_in_use() -> None:
    admission = Admission(max_concurrent=3, max_queued=0, retry_after_s=1, metrics=Metrics())
    first = admission.limiter.acquire()
    assert not admission.others_busy()
    second = admission.limiter.acquire()
    assert admission.others_busy()
    first.release()
    second.release()
