"""Small statistics for benchmark reports: percentiles, medians, ratios and latency summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0 to 100) with linear interpolation between order statistics.

    The same definition as ``numpy.percentile``'s default: position ``q/100 * (n - 1)`` in the
    sorted values. An empty sequence gives NaN.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within [0, 100], got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    position = q / 100 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN when the denominator is zero or either side is NaN."""
    if denominator == 0 or math.isnan(numerator) or math.isnan(denominator):
        return math.nan
    return numerator / denominator


@dataclass(frozen=True)
class Latency:
    """Percentiles of a set of durations, in seconds."""

    n: int
    p50: float
    p95: float
    p99: float
    mean: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        if not seconds:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        return cls(
            n=len(seconds),
            p50=percentile(seconds, 50),
            p95=percentile(seconds, 95),
            p99=percentile(seconds, 99),
            mean=sum(seconds) / len(seconds),
            max=max(seconds),
        )


def fmt(value: float, digits: int = 3) -> str:
    """A number for a Markdown table: fixed digits, ``n/a`` for NaN."""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f}"


def verdict(value: float, target: float, *, at_most: bool) -> str:
    """``met`` or ``missed by X %`` for a value against a target (``at_most``: lower is better).

    Against a zero target a percentage means nothing: a miss is ``missed by`` the amount itself
    (e.g. ``missed by 3`` for 3 errors where none are allowed).
    """
    if math.isnan(value):
        return "not measured"
    ok = value <= target if at_most else value >= target
    if ok:
        return "met"
    if target == 0:
        return f"missed by {abs(value):g}"
    off = (value / target - 1) if at_most else (1 - value / target)
    return f"missed by {off * 100:.0f} %"
