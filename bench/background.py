"""A loop on a background thread that runs from ``with`` to the end of the block."""

from __future__ import annotations

import threading
from typing import Self


class BackgroundLoop:
    """Runs :meth:`_run` on a daemon thread while the ``with`` block lasts.

    ``_run`` ends when ``self._stop`` is set: leaving the block sets it and joins the thread.
    ``_starting`` runs on the caller's thread just before the loop starts.
    """

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _starting(self) -> None:
        """Called just before the thread starts; nothing by default."""

    def _run(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._starting()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
