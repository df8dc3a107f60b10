"""Measurements of the real server over loopback: latency, throughput under concurrent clients,
memory, and cold start."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from bench.http_load import Outcome, Upload, closed_loop, post
from bench.process_tree import RssSampler
from bench.server import SERVE_SCRIPT, Server
from bench.stats import Latency, median


@dataclass(frozen=True)
class LoadRun:
    clients: int
    outcomes: list[Outcome]
    wall_s: float
    peak_rss: int = 0

    @property
    def ok(self) -> list[float]:
        return [o.seconds for o in self.outcomes if o.status == 200]

    @property
    def errors(self) -> int:
        return sum(1 for o in self.outcomes if o.status != 200)

    @property
    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def songs_per_s(self) -> float:
        return len(self.ok) / self.wall_s

    @property
    def latency(self) -> Latency:
        return Latency.of(self.ok)


def load(server: Server, upload: Upload, *, clients: int, requests: int) -> LoadRun:
    """``requests`` uploads from ``clients`` closed-loop clients, sampling the server's RSS."""
    with RssSampler(server.pid) as rss:
        outcomes, wall = closed_loop(server.url, [upload], clients=clients, total_requests=requests)
    return LoadRun(clients, outcomes, wall, rss.peak)


def sequential(server: Server, upload: Upload, *, requests: int) -> list[float]:
    """One client, one request after another: seconds of each 200 answer."""
    seconds = []
    with httpx.Client(timeout=120) as client:
        for _ in range(requests):
            status, took = post(client, server.url, upload)
            if status == 200:
                seconds.append(took)
    return seconds


@dataclass(frozen=True)
class Candidate:
    """Server settings tried with 8 clients before the full measurement."""

    name: str
    settings: Mapping[str, str]


@dataclass(frozen=True)
class CandidateRun:
    candidate: Candidate
    ready_s: float
    idle_rss: int
    single: list[float]  # one client alone: seconds per request
    run: LoadRun


def try_candidates(
    model_dir: Path,
    upload: Upload,
    candidates: Sequence[Candidate],
    *,
    clients: int,
    requests: int,
    single_requests: int = 6,
    command: Sequence[str] = SERVE_SCRIPT,
) -> list[CandidateRun]:
    results = []
    for candidate in candidates:
        with Server(model_dir, settings=candidate.settings, command=command) as server:
            ready = server.wait_ready()
            sequential(server, upload, requests=1)  # one request before timing
            idle = server.rss()
            single = sequential(server, upload, requests=single_requests)
            run = load(server, upload, clients=clients, requests=requests)
        results.append(CandidateRun(candidate, ready, idle, single, run))
    return results


def choose(runs: Sequence[CandidateRun], *, rss_limit: int, floor_s: float | None = None) -> CandidateRun:
    """The candidate for the service measurement.

    Among those with no errors and peak RSS within ``rss_limit``: the one meeting more of the
    latency (one client, p50 ≤ 1.3 × floor) and throughput (≥ 85 % of floor songs/s) targets;
    on a tie the shipped defaults (no settings: what a user runs), then the highest songs/s.
    Else the error-free one with the least memory.
    """
    clean = [r for r in runs if r.run.errors == 0]
    within = [r for r in clean if r.run.peak_rss <= rss_limit]

    def targets_met(r: CandidateRun) -> int:
        if floor_s is None:
            return 0
        fast = median(r.single) <= 1.3 * floor_s
        busy = r.run.songs_per_s >= 0.85 / floor_s
        return int(fast) + int(busy)

    if within:
        return max(within, key=lambda r: (targets_met(r), not r.candidate.settings, r.run.songs_per_s))
    if clean:
        return min(clean, key=lambda r: r.run.peak_rss)
    return max(runs, key=lambda r: len(r.run.ok))


@dataclass(frozen=True)
class ServiceRun:
    settings: Mapping[str, str]
    ready_s: float
    idle_rss: int
    sequential: list[float]
    levels: list[LoadRun]


def measure_service(
    model_dir: Path,
    upload: Upload,
    settings: Mapping[str, str],
    *,
    sequential_requests: int,
    levels: Sequence[int],
    requests_per_level: int,
    command: Sequence[str] = SERVE_SCRIPT,
) -> ServiceRun:
    with Server(model_dir, settings=settings, command=command) as server:
        ready = server.wait_ready()
        sequential(server, upload, requests=2)  # warm connections and caches
        idle = server.rss()
        one_client = sequential(server, upload, requests=sequential_requests)
        runs = [load(server, upload, clients=n, requests=max(requests_per_level, 2 * n)) for n in levels]
    return ServiceRun(settings, ready, idle, one_client, runs)


@dataclass(frozen=True)
class ColdStart:
    ready_s: float  # process start -> /readyz 200
    first_s: float  # the first /predict after ready
    steady_s: list[float]  # the next ones
    phases: dict[str, float] = field(default_factory=dict)  # from the server's log, seconds since start

    @property
    def first_over_steady(self) -> float:
        return self.first_s / median(self.steady_s)


def _log_phases(log_path: Path, started_wall: float) -> dict[str, float]:
    """Seconds from process start to the log's 'model loaded', 'pipeline warmed up' and 'ready'."""
    wanted = {"model loaded", "pipeline warmed up", "ready"}
    phases: dict[str, float] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        message = record.get("message") if isinstance(record, dict) else None
        if message in wanted and message not in phases and "ts" in record:
            at = datetime.fromisoformat(record["ts"]).timestamp()
            phases[message] = at - started_wall
    return phases


def cold_start(
    model_dir: Path,
    upload: Upload,
    settings: Mapping[str, str],
    *,
    steady_requests: int,
    command: Sequence[str] = SERVE_SCRIPT,
) -> ColdStart:
    server = Server(model_dir, settings=settings, command=command)
    server.log_path.write_bytes(b"")
    started_wall = time.time()
    with server:
        ready = server.wait_ready()
        with httpx.Client(timeout=120) as client:
            status, first = post(client, server.url, upload)
            if status != 200:
                raise RuntimeError(f"the first request got {status}:\n{server.log_tail()}")
        steady = sequential(server, upload, requests=steady_requests)
    return ColdStart(ready, first, steady, _log_phases(server.log_path, started_wall))
