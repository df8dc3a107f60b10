from __future__ import annotations

import asyncio
import io
import threading
import time
from concurrent.futures import Future

import numpy as np
import pytest
import soundfile as sf

from service.cancellation import CancelToken
from service.errors import OverloadedError, PayloadTooLargeError, RequestTimeoutError, UnsupportedMediaError
from service.inference import InferenceService, Limiter, Slot, deadline
from service.metrics import Metrics
from service.model import SongModel
from tests.service.samples import FORMATS, encode, tone


@pytest.fixture
def inference(loaded_model: SongModel) -> InferenceService:
    service = InferenceService(
        loaded_model,
        Metrics(),
        max_concurrent=2,
        retry_after_s=3,
        max_duration_s=30.0,
        max_decoded_bytes=256 * 2**20,
    )
    yield service
    service.shutdown()


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


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_analyse_every_format(inference: InferenceService, fmt: str) -> None:
    analysis = inference.analyse(io.BytesIO(encode(fmt, seconds=6.5)), CancelToken())
    assert analysis.duration_s == pytest.approx(6.5, abs=0.1)
    assert analysis.n_segments == 2
    assert analysis.segment_times[1] == pytest.approx((2.992, 5.984), abs=1e-3)
    for task, song in analysis.song_probs.items():
        assert song.sum() == pytest.approx(1.0, abs=1e-9)
        np.testing.assert_allclose(song, analysis.segment_probs[task].mean(axis=0), rtol=1e-5)


def test_analysis_stops_at_the_maximum_duration(loaded_model: SongModel) -> None:
    service = InferenceService(
        loaded_model,
        Metrics(),
        max_concurrent=1,
        retry_after_s=1,
        max_duration_s=4.0,
        max_decoded_bytes=2**30,
    )
    try:
        analysis = service.analyse(io.BytesIO(encode("flac", seconds=12.0)), CancelToken())
    finally:
        service.shutdown()
    assert analysis.duration_s == pytest.approx(4.0, abs=0.01)
    assert analysis.n_segments == 1


def test_undecodable_input_is_unsupported_media(inference: InferenceService) -> None:
    with pytest.raises(UnsupportedMediaError, match="cannot decode"):
        inference.analyse(io.BytesIO(b"definitely not audio" * 50), CancelToken())


def test_decode_budget_refuses_wide_high_rate_files(loaded_model: SongModel) -> None:
    buffer = io.BytesIO()
    sf.write(buffer, tone(2.0, 96_000, channels=6), 96_000, format="FLAC", subtype="PCM_16")
    service = InferenceService(
        loaded_model,
        Metrics(),
        max_concurrent=1,
        retry_after_s=1,
        max_duration_s=600.0,
        max_decoded_bytes=2**20,
    )
    try:
        with pytest.raises(PayloadTooLargeError, match="MiB"):
            service.analyse(io.BytesIO(buffer.getvalue()), CancelToken())
    finally:
        service.shutdown()


def test_metrics_count_analysed_audio(inference: InferenceService) -> None:
    inference.analyse(io.BytesIO(encode("wav", seconds=3.5)), CancelToken())
    text = inference.metrics.render().decode()
    assert "songid_audio_seconds_analysed_total 3.5" in text
    assert "songid_inference_seconds_count 1.0" in text


def test_start_warms_up_without_counting_and_can_restart(loaded_model: SongModel) -> None:
    service = InferenceService(
        loaded_model,
        Metrics(),
        max_concurrent=1,
        retry_after_s=1,
        max_duration_s=60.0,
        max_decoded_bytes=2**30,
    )
    assert not service.ready
    service.start()
    assert service.ready
    assert "songid_audio_seconds_analysed_total 0.0" in service.metrics.render().decode()
    service.shutdown()
    assert not service.ready
    service.start()
    assert service.ready
    service.shutdown()


def test_run_releases_the_slot_and_closes_the_file(inference: InferenceService) -> None:
    source = io.BytesIO(encode("ogg", seconds=3.2))

    async def go() -> None:
        inference.start()
        async with inference.admit() as slot:
            slot.on_release(source.close)
            analysis = await inference.run(source, slot)
        assert analysis.n_segments == 1

    asyncio.run(go())
    deadline_at = time.monotonic() + 5
    while inference.limiter.in_use and time.monotonic() < deadline_at:
        time.sleep(0.01)
    assert inference.limiter.in_use == 0
    assert source.closed
