"""A process and all its children: their resident memory and open files, once or sampled over time."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import psutil

from bench.background import BackgroundLoop


def tree_total(pid: int, measure: Callable[[psutil.Process], int]) -> int:
    """``measure`` summed over a process and all its children (0 when it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += measure(proc)
    return total


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its children, in bytes (0 when it is gone)."""
    return tree_total(pid, lambda proc: proc.memory_info().rss)


def tree_fds(pid: int) -> int:
    """Open file descriptors of a process and all its children (0 when it is gone)."""
    return tree_total(pid, lambda proc: proc.num_fds())


class RssSampler(BackgroundLoop):
    """Samples a process tree's RSS on a background thread; ``peak`` and ``samples`` after stop."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        super().__init__("rss-sampler")
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[tuple[float, int]] = []  # (seconds since start, bytes)
        self._t0 = 0.0

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)

    def _starting(self) -> None:
        self._t0 = time.perf_counter()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - self._t0, tree_rss(self.pid)))
            self._stop.wait(self.interval_s)
