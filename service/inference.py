"""The prediction pipeline (decode, log-mel, inference) off the event loop, with admission control.

A :class:`Limiter` hands out at most ``max_concurrent_requests`` slots and refuses the
next request at once (503 with Retry-After) instead of queueing it. A slot is held
from the start of the upload until the worker thread has finished with the audio, so
work abandoned after a timeout still counts until it has actually stopped: the bound
on CPU and memory holds even when clients give up. Abandoned work is told to stop
through a :class:`CancelToken`, which also terminates a running ONNX Runtime call.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from time import perf_counter
from typing import Any, BinaryIO

import numpy as np
import soundfile as sf

from frontend.audio import AudioDecodeError, segment_times, segments_from_audio
from service.cancellation import CancelToken
from service.decode_budget import check_decode_budget
from service.errors import (
    ModelNotReadyError,
    OverloadedError,
    PayloadTooLargeError,
    RequestTimeoutError,
    UnsupportedMediaError,
)
from service.metrics import Metrics
from service.model import SongModel, song_probabilities

logger = logging.getLogger(__name__)

WARM_UP_SECONDS = 3.5
WARM_UP_RATE = 44_100  # not the model's rate, so warming up also runs the resampler


@dataclass(frozen=True)
class Analysis:
    """What the model heard in one upload."""

    duration_s: float
    segment_probs: dict[str, np.ndarray]  # task -> (n_segments, n_labels)
    song_probs: dict[str, np.ndarray]  # task -> (n_labels,), sums to 1
    segment_times: list[tuple[float, float]]

    @property
    def n_segments(self) -> int:
        return len(self.segment_times)


class Slot:
    """One unit of admitted work; released exactly once, from whichever thread finishes it."""

    def __init__(self, on_release: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        self._callbacks = [on_release]
        self._released = False
        self.handed_off = False

    def on_release(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the slot is released (at once if it already was)."""
        with self._lock:
            if not self._released:
                self._callbacks.append(callback)
                return
        callback()

    def hand_off(self, future: Future[Any]) -> None:
        """From now on the slot is released when ``future`` finishes, not by the request."""
        self.handed_off = True
        future.add_done_callback(lambda _: self.release())

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
            callbacks = self._callbacks[::-1]
        for callback in callbacks:
            try:
                callback()
            except Exception:
                logger.exception("slot release callback failed")


class Limiter:
    """Non-blocking admission: at most ``capacity`` slots; beyond that :class:`OverloadedError`."""

    def __init__(self, capacity: int, *, retry_after_s: int, on_change: Callable[[int], None] | None = None):
        self.capacity = capacity
        self.retry_after_s = retry_after_s
        self._on_change = on_change
        self._lock = threading.Lock()
        self._in_use = 0

    @property
    def in_use(self) -> int:
        return self._in_use

    def acquire(self) -> Slot:
        with self._lock:
            if self._in_use >= self.capacity:
                raise OverloadedError(
                    f"{self.capacity} predictions already in progress; retry later",
                    retry_after_s=self.retry_after_s,
                )
            self._in_use += 1
            self._changed()
        return Slot(self._release)

    def _release(self) -> None:
        with self._lock:
            self._in_use -= 1
            self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self._in_use)


@asynccontextmanager
async def deadline(seconds: float) -> AsyncIterator[None]:
    """Cancel the enclosed work after ``seconds`` and raise :class:`RequestTimeoutError`."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError as e:
        raise RequestTimeoutError(f"the request took longer than {seconds:g} s") from e


class InferenceService:
    """Runs uploads through the front end and the model in a bounded worker pool."""

    def __init__(
        self,
        model: SongModel,
        metrics: Metrics,
        *,
        max_concurrent: int,
        retry_after_s: int,
        max_duration_s: float,
        max_decoded_bytes: int,
    ) -> None:
        self.model = model
        self.metrics = metrics
        self.max_duration_s = max_duration_s
        self.max_decoded_bytes = max_decoded_bytes
        self.limiter = Limiter(
            max_concurrent, retry_after_s=retry_after_s, on_change=metrics.predictions_in_flight.set
        )
        self._max_workers = max_concurrent
        self._executor: ThreadPoolExecutor | None = None
        self._warmed = False

    @property
    def ready(self) -> bool:
        """Started, model loaded, and the whole pipeline run once (JIT compilation done)."""
        return self._executor is not None and self._warmed and self.model.ready

    def start(self) -> None:
        """Open the worker pool and warm up; the service is ready afterwards."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix="songid-infer"
            )
        if not self._warmed:
            self.warm_up()

    def warm_up(self) -> None:
        """Analyse a few seconds of synthetic audio so the first request is not slow."""
        rng = np.random.default_rng(0)
        noise = (0.01 * rng.standard_normal(int(WARM_UP_SECONDS * WARM_UP_RATE))).astype(np.float32)
        buffer = io.BytesIO()
        sf.write(buffer, noise, WARM_UP_RATE, format="WAV", subtype="PCM_16")
        buffer.seek(0)
        started = perf_counter()
        self.analyse(buffer, CancelToken(), record=False)
        self._warmed = True
        logger.info("pipeline warmed up", extra={"fields": {"seconds": round(perf_counter() - started, 3)}})

    def shutdown(self) -> None:
        """Stop accepting work; running analyses finish in the background."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[Slot]:
        """A concurrency slot for one prediction, or an immediate 503."""
        if not self.ready:
            self.metrics.rejected.labels(reason="not_ready").inc()
            raise ModelNotReadyError("the model is not loaded yet")
        try:
            slot = self.limiter.acquire()
        except OverloadedError:
            self.metrics.rejected.labels(reason="overloaded").inc()
            raise
        try:
            yield slot
        finally:
            if not slot.handed_off:
                slot.release()

    async def run(self, source: BinaryIO, slot: Slot) -> Analysis:
        """Analyse ``source`` in a worker thread; the slot is released when the thread is done."""
        executor = self._executor
        if executor is None:
            raise ModelNotReadyError("the service is not running")
        token = CancelToken()
        context = contextvars.copy_context()  # keeps the request id in the worker's log lines
        future = executor.submit(context.run, self.analyse, source, token)
        slot.hand_off(future)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            token.cancel()
            raise

    def analyse(self, source: BinaryIO, cancel: CancelToken, *, record: bool = True) -> Analysis:
        """Decode, segment and classify; runs in a worker thread. ``record``: update metrics."""
        started = perf_counter()
        check_decode_budget(source, max_duration_s=self.max_duration_s, max_bytes=self.max_decoded_bytes)
        try:
            segments, duration_s = segments_from_audio(source, max_duration_s=self.max_duration_s)
        except AudioDecodeError as e:
            raise UnsupportedMediaError(f"cannot decode the file as audio: {e}") from e
        except MemoryError as e:
            raise PayloadTooLargeError("the decoded audio does not fit in memory") from e
        if duration_s <= 0:
            raise UnsupportedMediaError("the file holds no audio samples to analyse")
        cancel.raise_if_cancelled()
        decoded = perf_counter()
        segment_probs = self.model.predict(segments, cancel=cancel)
        finished = perf_counter()
        if record:
            self.metrics.observe_analysis(
                decode_s=decoded - started, inference_s=finished - decoded, audio_s=duration_s
            )
        return Analysis(
            duration_s=duration_s,
            segment_probs=segment_probs,
            song_probs={task: song_probabilities(p) for task, p in segment_probs.items()},
            segment_times=segment_times(segments.shape[0]),
        )
