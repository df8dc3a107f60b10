"""The targets table of ``reports/perf.md``: each target, the figure measured and its verdict."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bench.markdown import MB, ms
from bench.stats import fmt, median, ratio, verdict

if TYPE_CHECKING:
    from bench.perf_results import Results


def targets(results: Results) -> list[list[str]]:
    """One row (target, measured, verdict) per target the run has figures for."""
    rows: list[list[str]] = []
    floor = results.best_floor if results.floors else None
    service = results.service
    p50 = median(service.sequential) if service else math.nan
    floor_s = floor.seconds if floor else math.nan
    if service:
        r = ratio(p50, floor_s)
        rows.append(
            [
                "POST /predict p50 ≤ 1.3 × floor",
                f"{ms(p50)} ms = {fmt(r, 2)} × floor",
                verdict(r, 1.3, at_most=True),
            ]
        )
    if results.naive and service:
        naive_s = median(results.naive["seconds"][1:] or results.naive["seconds"])
        r = ratio(naive_s, p50)
        rows.append(
            [
                "≥ 4 × faster than the naive peer",
                f"naive {ms(naive_s)} ms / POST p50 {ms(p50)} ms = {fmt(r, 2)} × "
                f"(floor: {fmt(ratio(naive_s, floor_s), 2)} ×)",
                verdict(r, 4.0, at_most=False),
            ]
        )
    eight = next((run for run in service.levels if run.clients == 8), None) if service else None
    if eight is not None:
        share = ratio(eight.songs_per_s, 1 / floor_s)
        rows.append(
            [
                "8 clients: throughput ≥ 85 % of floor songs/s",
                f"{fmt(eight.songs_per_s, 2)} songs/s = {fmt(share * 100, 0)} % of {fmt(1 / floor_s, 2)}",
                verdict(share, 0.85, at_most=False),
            ]
        )
        rows.append(
            [
                "8 clients: 0 errors",
                f"{eight.errors} of {len(eight.outcomes)}",
                verdict(eight.errors, 0, at_most=True),
            ]
        )
        lat = eight.latency
        r = ratio(lat.p99, lat.p50)
        rows.append(
            [
                "8 clients: p99 ≤ 3 × p50",
                f"p99 {ms(lat.p99)} ms = {fmt(r, 2)} × p50",
                verdict(r, 3.0, at_most=True),
            ]
        )
        rows.append(
            [
                "peak RSS under 8 clients ≤ 600 MB",
                f"{fmt(eight.peak_rss / MB, 0)} MB",
                verdict(eight.peak_rss / MB, 600, at_most=True),
            ]
        )
    if results.cold:
        ready = median([c.ready_s for c in results.cold])
        rows.append(
            [
                "ready ≤ 5 s after start, warm-up included",
                f"{fmt(ready, 2)} s",
                verdict(ready, 5.0, at_most=True),
            ]
        )
        first = median([c.first_over_steady for c in results.cold])
        rows.append(
            ["first request ≤ 1.5 × steady state", f"{fmt(first, 2)} ×", verdict(first, 1.5, at_most=True)]
        )
    if results.training:
        best = max(results.training, key=lambda t: t.median)
        rows.append(
            [
                "training ≥ 100 segments/s",
                f"{fmt(best.median, 1)} segments/s ({best.variant})",
                verdict(best.median, 100.0, at_most=False),
            ]
        )
    return rows
