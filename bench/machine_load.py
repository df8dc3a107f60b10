"""Other work on the machine: training jobs and busy processes, waited for and watched during a run."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from bench.background import BackgroundLoop


def _own_pids() -> set[int]:
    """This process and all its children: the harness and what it started."""
    me = psutil.Process()
    return {me.pid, *(p.pid for p in me.children(recursive=True))}


def training_processes() -> list[psutil.Process]:
    """Running ``songid train``-like jobs (train, compare, reproduce): other work loading the CPU."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        words = [Path(part).name for part in cmdline]
        jobs = ("train", "compare", "reproduce")
        songid = "songid" in words or "training.cli" in words
        if songid and any(w in words for w in jobs) and proc.pid != os.getpid():
            found.append(proc)
    return found


def busy_processes(seconds: float = 1.0, threshold: float = 10.0) -> list[str]:
    """Other processes using more than ``threshold`` % of one core over ``seconds``."""
    procs = []
    mine = _own_pids()
    for proc in psutil.process_iter(["pid", "name"]):
        with contextlib.suppress(psutil.Error):
            proc.cpu_percent(None)
            procs.append(proc)
    time.sleep(seconds)
    busy = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            used = proc.cpu_percent(None)
            if used >= threshold and proc.pid not in mine:
                busy.append(f"{proc.info['name']} (pid {proc.pid}, {used:.0f} % of a core)")
    return busy


def wait_until_quiet(max_wait_s: float, log: Callable[[str], None] = print) -> list[str]:
    """Wait (up to ``max_wait_s``) until no training job runs and no other process is busy.

    Returns what was still running when the wait ended (empty when the machine is quiet).
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        running = [f"songid job (pid {p.pid})" for p in training_processes()]
        running += busy_processes(seconds=3.0, threshold=25.0)
        if not running or time.monotonic() >= deadline:
            return running
        log(f"waiting for a quiet machine: {', '.join(running)}")
        time.sleep(20)


class LoadMonitor(BackgroundLoop):
    """Samples, on a background thread, the CPU used by processes outside this process tree.

    ``section(name)`` starts a new named section; ``summary()`` gives, per section, the mean and
    maximum CPU of other processes (in % of one core) and the busiest of them by name.
    """

    def __init__(self, interval_s: float = 2.0) -> None:
        super().__init__("load-monitor")
        self.interval_s = interval_s
        self.samples: dict[str, list[float]] = {}
        self.own: dict[str, list[float]] = {}  # the harness process itself (clients, in-process work)
        self.culprits: dict[str, dict[str, float]] = {}
        self._section = "start"
        self._procs: dict[int, psutil.Process] = {}

    def section(self, name: str) -> None:
        self._section = name

    def _others(self) -> dict[int, psutil.Process]:
        mine = _own_pids()
        found = {}
        for proc in psutil.process_iter(["pid", "name"]):
            if proc.pid in mine:
                continue
            known = self._procs.get(proc.pid)
            if known is None:
                with contextlib.suppress(psutil.Error):
                    proc.cpu_percent(None)  # first call: starts the measurement
                found[proc.pid] = proc
            else:
                found[proc.pid] = known
        return found

    def _run(self) -> None:
        self._procs = self._others()
        me = psutil.Process()
        me.cpu_percent(None)
        while not self._stop.wait(self.interval_s):
            total = 0.0
            section = self._section
            self.own.setdefault(section, []).append(me.cpu_percent(None))
            for proc in self._procs.values():
                with contextlib.suppress(psutil.Error):
                    used = proc.cpu_percent(None)
                    total += used
                    if used >= 10:
                        name = str(proc.info.get("name") or proc.pid)
                        culprits = self.culprits.setdefault(section, {})
                        culprits[name] = max(culprits.get(name, 0.0), used)
            self.samples.setdefault(section, []).append(total)
            self._procs = self._others()

    def summary(self) -> list[tuple[str, float, float, float, str]]:
        """(section, others' mean %, others' max %, harness mean %, busiest others) per section."""
        rows = []
        for section, values in self.samples.items():
            culprits = sorted(self.culprits.get(section, {}).items(), key=lambda kv: -kv[1])[:3]
            names = ", ".join(f"{name} (up to {used:.0f} %)" for name, used in culprits)
            own = self.own.get(section) or [0.0]
            rows.append((section, sum(values) / len(values), max(values), sum(own) / len(own), names))
        return rows
