"""The prediction pipeline (decode, log-mel, inference) off the event loop, with admission control.

A :class:`Limiter` hands out at most ``max_concurrent_requests`` slots; up to
``max_queued_requests`` more requests wait for one in arrival order, and the next is refused
at once (503 with Retry-After). A waiting request has not read its upload yet. A slot is held
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
from collections import deque
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
    """Admission: at most ``capacity`` slots; up to ``queue`` requests wait for one, in arrival order.

    Beyond that :class:`OverloadedError`. Slots are released from any thread (worker threads
    finish work); a released slot passes straight to the longest-waiting request, woken on its
    own event loop.
    """

    def __init__(
        self,
        capacity: int,
        *,
        retry_after_s: int,
        queue: int = 0,
        on_change: Callable[[int], None] | None = None,
        on_queue_change: Callable[[int], None] | None = None,
    ):
        self.capacity = capacity
        self.queue = queue
        self.retry_after_s = retry_after_s
        self._on_change = on_change
        self._on_queue_change = on_queue_change
        self._lock = threading.Lock()
        self._in_use = 0
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def acquire(self) -> Slot:
        """A slot now, or :class:`OverloadedError` (never waits, never overtakes a waiting request)."""
        with self._lock:
            if self._in_use >= self.capacity or self._waiters:
                raise self._overloaded()
            self._in_use += 1
            self._changed()
        return Slot(self._release)

    async def acquire_or_wait(self) -> Slot:
        """A slot now; else wait in line when fewer than ``queue`` wait; else :class:`OverloadedError`.

        A cancelled wait (timeout, client gone) leaves the line, or passes on the slot it was
        just given.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._in_use < self.capacity and not self._waiters:
                self._in_use += 1
                self._changed()
                return Slot(self._release)
            if len(self._waiters) >= self.queue:
                raise self._overloaded()
            entry = (loop, loop.create_future())
            self._waiters.append(entry)
            self._queue_changed()
        try:
            await entry[1]
        except BaseException:
            with self._lock:
                still_waiting = entry in self._waiters
                if still_waiting:
                    self._waiters.remove(entry)
                    self._queue_changed()
            if not still_waiting:  # the slot was handed over as the wait ended: pass it on
                self._release()
            raise
        return Slot(self._release)

    def _release(self) -> None:
        while True:
            with self._lock:
                if not self._waiters:
                    self._in_use -= 1
                    self._changed()
                    return
                loop, waiter = self._waiters.popleft()  # the slot passes on; in_use is unchanged
                self._queue_changed()
            try:
                loop.call_soon_threadsafe(_wake, waiter)
                return
            except RuntimeError:  # that request's event loop is closed: offer the slot to the next
                continue

    def _overloaded(self) -> OverloadedError:
        busy = f"{self.capacity} predictions already in progress"
        if self.queue:
            busy += f" and {len(self._waiters)} waiting"
        return OverloadedError(f"{busy}; retry later", retry_after_s=self.retry_after_s)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self._in_use)

    def _queue_changed(self) -> None:
        if self._on_queue_change is not None:
            self._on_queue_change(len(self._waiters))


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


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
        max_queued: int = 0,
        retry_after_s: int,
        max_duration_s: float,
        max_decoded_bytes: int,
    ) -> None:
        self.model = model
        self.metrics = metrics
        self.max_duration_s = max_duration_s
        self.max_decoded_bytes = max_decoded_bytes
        self.limiter = Limiter(
            max_concurrent,
            retry_after_s=retry_after_s,
            queue=max_queued,
            on_change=metrics.predictions_in_flight.set,
            on_queue_change=metrics.predictions_queued.set,
        )
        self._max_workers = max_concurrent
        if isinstance(model, SongModel):  # automatic threads: one each while others are handled
            model.others_busy = lambda: self.limiter.in_use > 1
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
        """A concurrency slot for one prediction (after waiting in the queue, if any), or a 503."""
        if not self.ready:
            self.metrics.rejected.labels(reason="not_ready").inc()
            raise ModelNotReadyError("the model is not loaded yet")
        try:
            slot = await self.limiter.acquire_or_wait()
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
