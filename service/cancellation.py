"""A thread-safe cancellation flag for work running in a worker thread.

The request side calls :meth:`CancelToken.cancel` when it gives up (timeout); the
worker checks :meth:`CancelToken.raise_if_cancelled` between stages, and ONNX Runtime
calls registered with :meth:`CancelToken.track` are told to terminate at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Terminable(Protocol):
    """Anything with a ``terminate`` flag, such as ``onnxruntime.RunOptions``."""

    terminate: bool


class WorkCancelledError(Exception):
    """The work was abandoned by its requester; nobody is waiting for the result."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._active: list[Terminable] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            for run in self._active:
                run.terminate = True

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise WorkCancelledError("work cancelled by the requester")

    @contextmanager
    def track(self, run: Terminable) -> Iterator[None]:
        """Terminate ``run`` if the token is (or becomes) cancelled while inside the block."""
        with self._lock:
            if self._event.is_set():
                raise WorkCancelledError("work cancelled by the requester")
            self._active.append(run)
        try:
            yield
        finally:
            with self._lock:
                self._active.remove(run)
