"""What ``bench.hostile`` watches while an attack runs: ``/healthz`` from a prober opening a new
connection each time, a normal client uploading a short song to ``/predict``, the server's RSS
and open file descriptors, and the bytes its log grew by."""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import httpx
import psutil

from bench.background import BackgroundLoop
from bench.http_load import Answer, Upload, get, post
from bench.process_tree import RssSampler, tree_fds, tree_rss
from bench.server import Server
from bench.stats import median, percentile, ratio

SLOW_HEALTHZ_S = 1.0
LINGER_S = 1.0  # watched after an attack ends, for what it leaves behind
CLIENT_PAUSE_S = 0.5  # between two uploads of the normal client
T = TypeVar("T")


def fresh_client(timeout_s: float) -> httpx.Client:
    """A client that closes its connection after every request, as a health checker does."""
    return httpx.Client(timeout=timeout_s, headers={"Connection": "close"})


class Repeat(BackgroundLoop, Generic[T]):
    """Calls ``action`` on a background thread, pausing ``pause_s`` between calls, until exit."""

    def __init__(self, action: Callable[[], T], pause_s: float, name: str) -> None:
        super().__init__(name)
        self.action = action
        self.pause_s = pause_s
        self.results: list[T] = []

    def _run(self) -> None:
        while not self._stop.is_set():
            self.results.append(self.action())
            self._stop.wait(self.pause_s)


class ResourceSampler(RssSampler):
    """RssSampler that also samples the tree's open file descriptors."""

    def __init__(self, pid: int, interval_s: float = 0.25) -> None:
        super().__init__(pid, interval_s)
        self.fds: list[int] = []

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - self._t0, tree_rss(self.pid)))
            self.fds.append(tree_fds(self.pid))
            self._stop.wait(self.interval_s)


@dataclass(frozen=True)
class LogDelta:
    """What the server wrote to its log (stdout and stderr) in a window."""

    size: int
    statuses: Counter[int] = field(default_factory=Counter)  # from the access log
    errors: int = 0  # records at level error or critical, and lines that are not JSON records
    by_request: dict[str, list[int]] = field(default_factory=dict)  # request id -> statuses logged

    @classmethod
    def read(cls, path: Path, start: int, end: int) -> LogDelta:
        with path.open("rb") as log:
            log.seek(start)
            text = log.read(max(0, end - start)).decode(errors="replace")
        statuses: Counter[int] = Counter()
        by_request: dict[str, list[int]] = {}
        errors = 0
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                errors += bool(line.strip())
                continue
            if not isinstance(record, dict):
                continue
            status = record.get("status")
            if record.get("logger") == "service.access" and isinstance(status, int):
                statuses[status] += 1
                by_request.setdefault(str(record.get("request_id")), []).append(status)
            errors += record.get("level") in ("error", "critical")
        return cls(end - start, statuses, errors, by_request)


def log_size(path: Path) -> int:
    with contextlib.suppress(OSError):
        return path.stat().st_size
    return 0


@dataclass(frozen=True)
class Observed:
    """The server as seen during one attack."""

    healthz: list[Answer]
    normal: list[Answer]
    unloaded_s: float  # the normal client's median latency with no attack, same run
    unloaded_when: str  # when that was measured
    rss_start: int
    rss_peak: int
    fds_start: int
    fds_peak: int
    log: LogDelta
    wall_s: float
    harness_cpu_s: float
    alive: bool
    rss_end: int = 0  # the last sample, after the attack and its linger

    @property
    def healthz_ok(self) -> list[float]:
        return [s for status, s in self.healthz if status == 200]

    @property
    def healthz_p99(self) -> float:
        """Seconds: the 99th percentile of the 200 answers (NaN without any)."""
        return percentile(self.healthz_ok, 99)

    @property
    def healthz_failed(self) -> int:
        return sum(1 for status, _ in self.healthz if status != 200)

    @property
    def healthz_failures(self) -> str:
        """The probes that got no 200, by status (0: no answer), e.g. ``" (503: 1)"``; empty for none."""
        failed = Counter(status for status, _ in self.healthz if status != 200)
        return f" ({', '.join(f'{k}: {n}' for k, n in sorted(failed.items()))})" if failed else ""

    @property
    def healthz_slow(self) -> int:
        return sum(1 for s in self.healthz_ok if s > SLOW_HEALTHZ_S)

    @property
    def healthz_within(self) -> bool:
        return bool(self.healthz) and self.healthz_failed == 0 and self.healthz_slow == 0

    @property
    def normal_statuses(self) -> Counter[int]:
        return Counter(status for status, _ in self.normal)

    @property
    def normal_refused(self) -> int:
        """The normal client's requests that did not get 200."""
        return sum(n for status, n in self.normal_statuses.items() if status != 200)

    @property
    def normal_s(self) -> float:
        """Median seconds of the normal client's answered (200) requests during the attack."""
        ok = [s for status, s in self.normal if status == 200]
        return median(ok) if ok else math.nan

    @property
    def normal_ratio(self) -> float:
        return ratio(self.normal_s, self.unloaded_s)


def server_alive(server: Server, timeout_s: float, tries: int = 3) -> bool:
    """The process runs and ``/healthz`` answers 200 (within ``tries`` attempts)."""
    for _ in range(tries):
        if server.process is None or server.process.poll() is not None:
            return False
        with fresh_client(timeout_s) as client:
            if get(client, f"{server.url}/healthz")[0] == 200:
                return True
        time.sleep(1.0)
    return False


class Watch:
    """Context manager: everything above, from entry to exit; ``observed`` after exit."""

    def __init__(
        self,
        server: Server,
        upload: Upload,
        *,
        unloaded_s: float,
        unloaded_when: str,
        healthz_every_s: float,
        healthz_timeout_s: float,
        client_timeout_s: float,
        client_pause_s: float = CLIENT_PAUSE_S,
    ) -> None:
        self.server = server
        self.unloaded_s = unloaded_s
        self.unloaded_when = unloaded_when
        self.healthz_timeout_s = healthz_timeout_s
        url = server.url
        self._clients = (fresh_client(healthz_timeout_s), fresh_client(client_timeout_s))
        prober, normal = self._clients
        self._health = Repeat(lambda: get(prober, f"{url}/healthz"), healthz_every_s, "healthz")
        self._normal = Repeat(lambda: post(normal, url, upload), client_pause_s, "normal")
        self._resources = ResourceSampler(server.pid)
        self._log_start = 0
        self._t0 = 0.0
        self._cpu0 = 0.0
        self.observed: Observed | None = None

    def __enter__(self) -> Watch:
        self._log_start = log_size(self.server.log_path)
        self._t0 = time.perf_counter()
        self._cpu0 = sum(psutil.Process().cpu_times()[:2])
        for part in (self._resources, self._health, self._normal):
            part.__enter__()
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(LINGER_S)
        for part in (self._normal, self._health, self._resources):
            part.__exit__()
        for client in self._clients:
            client.close()
        wall = time.perf_counter() - self._t0
        cpu = sum(psutil.Process().cpu_times()[:2]) - self._cpu0
        alive = server_alive(self.server, self.healthz_timeout_s)
        log = LogDelta.read(self.server.log_path, self._log_start, log_size(self.server.log_path))
        samples = [rss for _, rss in self._resources.samples]
        fds = self._resources.fds
        self.observed = Observed(
            healthz=self._health.results,
            normal=self._normal.results,
            unloaded_s=self.unloaded_s,
            unloaded_when=self.unloaded_when,
            rss_start=samples[0] if samples else 0,
            rss_peak=max(samples, default=0),
            fds_start=fds[0] if fds else 0,
            fds_peak=max(fds, default=0),
            log=log,
            wall_s=wall,
            harness_cpu_s=cpu,
            alive=alive,
            rss_end=samples[-1] if samples else 0,
        )
