"""Admission: who may run a prediction now, who waits, and the one worker pool they run in.

A :class:`Limiter` hands out at most ``max_concurrent`` slots; up to ``max_queued`` more
requests wait for one in arrival order, and the next is refused at once (503 with
Retry-After). A slot is held until the worker thread has finished with the work, so work
abandoned after a timeout still counts until it has actually stopped: the bound on CPU and
memory holds even when clients give up. Abandoned work is told to stop through a
:class:`~service.cancellation.CancelToken`, which also terminates a running ONNX Runtime call.
``POST /predict`` and every ``/v2`` inference go through one :class:`Admission`, so they share
slots, queue, pool and metrics. Nothing here knows what the work is.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from service.cancellation import CancelToken
from service.errors import ModelNotReadyError, OverloadedError, RequestTimeoutError
from service.metrics import Metrics

logger = logging.getLogger(__name__)

T = TypeVar("T")


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


class Admission:
    """Slots, a waiting line and one worker pool for every prediction route.

    Args:
        max_concurrent: slots (and worker threads).
        max_queued: requests that may wait for a slot; beyond that :class:`OverloadedError`.
        retry_after_s: Retry-After sent with the 503.
        metrics: slots in use, waiting requests and refusals are recorded here.
    """

    def __init__(self, *, max_concurrent: int, max_queued: int, retry_after_s: int, metrics: Metrics) -> None:
        self.metrics = metrics
        self.limiter = Limiter(
            max_concurrent,
            retry_after_s=retry_after_s,
            queue=max_queued,
            on_change=metrics.predictions_in_flight.set,
            on_queue_change=metrics.predictions_queued.set,
        )
        self._max_workers = max_concurrent
        self._executor: ThreadPoolExecutor | None = None

    @property
    def running(self) -> bool:
        return self._executor is not None

    def others_busy(self) -> bool:
        """The model's thread policy: more than one slot in use (decoding or inferring; uploads hold none)."""
        return self.limiter.in_use > 1

    def start(self) -> None:
        """Open the worker pool."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix="songid-infer"
            )

    def shutdown(self) -> None:
        """Stop accepting work; running work finishes in the background."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    @asynccontextmanager
    async def admit(
        self, *, ready: bool = True, on_release: Callable[[], None] | None = None
    ) -> AsyncIterator[Slot]:
        """A slot for one prediction (after waiting in line, if any), or a 503.

        Args:
            ready: whether what the work needs (the model) can serve; ``False`` refuses with 503.
            on_release: run once the slot is released (when the work has finished with what it
                was given, e.g. closing an upload), or at once when no slot is given.
        """
        try:
            if not ready or not self.running:
                self.metrics.rejected.labels(reason="not_ready").inc()
                raise ModelNotReadyError("the model is not loaded yet")
            try:
                slot = await self.limiter.acquire_or_wait()
            except OverloadedError:
                self.metrics.rejected.labels(reason="overloaded").inc()
                raise
        except BaseException:
            if on_release is not None:
                on_release()
            raise
        if on_release is not None:
            slot.on_release(on_release)
        try:
            yield slot
        finally:
            if not slot.handed_off:
                slot.release()

    async def run(self, slot: Slot, work: Callable[[CancelToken], T]) -> T:
        """``work(cancel)`` in a worker thread that owns ``slot`` until it returns.

        When the awaiting request is cancelled (deadline, client gone) the work is told to
        stop through its token, and the slot is released only once it has.
        """
        executor = self._executor
        if executor is None:
            raise ModelNotReadyError("the service is not running")
        token = CancelToken()
        context = contextvars.copy_context()  # keeps the request id in the worker's log lines
        future: Future[T] = executor.submit(context.run, work, token)
        slot.hand_off(future)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            token.cancel()
            raise
