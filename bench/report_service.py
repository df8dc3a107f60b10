"""Sections 2 to 4 of ``reports/perf.md``: the service over loopback, the naive peer, cold starts."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bench.markdown import MB, ms, table
from bench.stats import fmt, median, percentile

if TYPE_CHECKING:
    from bench.perf_options import Options
    from bench.perf_results import Results


def _settings_text(settings: dict[str, str] | object) -> str:
    items = dict(settings) if isinstance(settings, dict) else {}
    if not items:
        return "defaults"
    return ", ".join(f"`{k}={v}`" for k, v in items.items())


def service_section(results: Results, options: Options) -> list[str]:
    """Section 2: server settings tried with 8 clients, then the chosen ones at each level."""
    if not (results.candidates and results.service and results.chosen):
        return []
    rows = [
        [
            c.candidate.name,
            ms(median(c.single)),
            str(len(c.run.ok)),
            str(c.run.errors),
            fmt(c.run.songs_per_s, 2),
            ms(c.run.latency.p50),
            ms(c.run.latency.p99),
            fmt(c.idle_rss / MB, 0),
            fmt(c.run.peak_rss / MB, 0),
        ]
        for c in results.candidates
    ]
    service = results.service
    lat = service.sequential
    return [
        "## 2. Service over loopback",
        "",
        "The real server started as the README starts it (`scripts/serve`, `SONGID_PORT` set to a",
        "free port, bound to 127.0.0.1), driven by closed-loop httpx clients in the harness process",
        "(each sends its next upload when the last is answered; 503 and any non-200 count as errors).",
        "",
        "### Server settings for 8 clients",
        "",
        "Each candidate: a fresh server, one untimed request, 6 requests from one client, then",
        f"{options.candidate_requests} requests from 8 clients. Chosen: among those with 0 errors and",
        "peak RSS ≤ 600 MB, the one meeting more of the one-client latency and 8-client throughput",
        "targets; on a tie the shipped defaults, then the highest songs/s.",
        "",
        *table(
            [
                "settings",
                "1 client p50 ms",
                "8 clients: 200",
                "errors",
                "songs/s",
                "p50 ms",
                "p99 ms",
                "idle RSS MB",
                "peak RSS MB",
            ],
            rows,
        ),
        f"Chosen: **{results.chosen.candidate.name}** "
        f"({_settings_text(dict(results.chosen.candidate.settings))}).",
        "",
        "### With the chosen settings",
        "",
        f"One client, {len(lat)} requests one after another: "
        f"POST /predict p50 **{ms(median(lat))} ms**, "
        f"p95 {ms(percentile(lat, 95))} ms "
        f"(the floor: {ms(results.best_floor.seconds) if results.floors else 'n/a'} ms).",
        "",
        *table(
            ["clients", "requests", "errors", "songs/s", "p50 ms", "p95 ms", "p99 ms", "peak RSS MB"],
            [
                [
                    str(r.clients),
                    str(len(r.outcomes)),
                    str(r.errors),
                    fmt(r.songs_per_s, 2),
                    ms(r.latency.p50),
                    ms(r.latency.p95),
                    ms(r.latency.p99),
                    fmt(r.peak_rss / MB, 0),
                ]
                for r in service.levels
            ],
        ),
        "RSS of the server process (and children) when idle after warm-up: "
        f"{fmt(service.idle_rss / MB, 0)} MB;",
        "peak RSS is sampled every 50 ms with psutil during each level.",
        "",
    ]


def naive_section(results: Results) -> list[str]:
    """Section 3: librosa + Keras on the same track, and whether its top labels agree."""
    if not results.naive:
        return []
    naive = results.naive
    steady = naive["seconds"][1:] or naive["seconds"]
    agree = _top_labels_agree(results)
    return [
        "## 3. Naive peer",
        "",
        "`librosa.load` at its defaults (22 050 Hz), `librosa.resample` to 16 kHz,",
        "`librosa.feature.melspectrogram`, the same log compression and 3-second segments, then",
        "`model.predict` of the Keras model; own process, same track.",
        "",
        *table(
            ["", "ms per song"],
            [
                ["first call (includes graph tracing)", ms(naive["seconds"][0])],
                [f"steady state (median of {len(steady)})", ms(median(steady))],
                [
                    "of which librosa front end",
                    ms(median(naive["front_end_seconds"][1:] or naive["front_end_seconds"])),
                ],
            ],
        ),
        f"Song-level top labels agree with the service pipeline's: {agree}.",
        "",
    ]


def _top_labels_agree(results: Results) -> str:
    if not results.naive or not results.floor_song_probs:
        return "n/a"
    parts = []
    for task, probs in results.floor_song_probs.items():
        naive = results.naive["song_probs"].get(task)
        if naive is None:
            continue
        same = max(range(len(probs)), key=probs.__getitem__) == max(range(len(naive)), key=naive.__getitem__)
        parts.append(f"{task} {'yes' if same else 'no'}")
    return ", ".join(parts) or "n/a"


def cold_section(results: Results) -> list[str]:
    """Section 4: process start to ready, and the first request against the next ones."""
    if not results.cold:
        return []
    rows = [
        [
            str(i + 1),
            fmt(c.ready_s, 2),
            fmt(c.phases.get("model loaded", math.nan), 2),
            fmt(c.phases.get("pipeline warmed up", math.nan), 2),
            ms(c.first_s),
            ms(median(c.steady_s)),
            fmt(c.first_over_steady, 2),
        ]
        for i, c in enumerate(results.cold)
    ]
    return [
        "## 4. Cold start",
        "",
        "`scripts/serve` started with the chosen settings; time from `Popen` to the first 200 of",
        "`GET /readyz` (polled every 10 ms), then the first POST /predict and 5 more (steady state).",
        "The log columns are seconds from the start to the server's own log lines. Each run begins",
        "with one extra, unreported start, which pays one-time setup (installing after a changed",
        "`pyproject.toml`, cold file cache).",
        "",
        *table(
            [
                "start",
                "ready s",
                "model loaded s",
                "warmed up s",
                "first ms",
                "steady ms",
                "first / steady",
            ],
            rows,
        ),
    ]
