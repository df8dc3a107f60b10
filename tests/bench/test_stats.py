"""The benchmark's arithmetic: percentiles, ratios and verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.stats import Latency, fmt, median, percentile, ratio, verdict


@pytest.mark.parametrize("q", [0, 1, 25, 50, 90, 95, 99, 100])
@pytest.mark.parametrize("n", [1, 2, 5, 24, 101])
def test_percentile_matches_numpys_linear_definition(q: float, n: int) -> None:
    values = list(np.random.default_rng(n).exponential(size=n))
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_median_of_even_and_odd_counts() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5


def test_empty_and_invalid_inputs() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], 101)


def test_ratio_guards_against_zero_and_nan() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert math.isnan(ratio(1.0, 0.0))
    assert math.isnan(ratio(math.nan, 1.0))


def test_latency_summary() -> None:
    lat = Latency.of([0.1 * i for i in range(1, 101)])
    assert lat.n == 100
    assert lat.p50 == pytest.approx(5.05)
    assert lat.p99 == pytest.approx(9.901)
    assert lat.max == pytest.approx(10.0)
    assert math.isnan(Latency.of([]).p50)


def test_verdicts_say_by_how_much_a_target_is_missed() -> None:
    assert verdict(1.2, 1.3, at_most=True) == "met"
    assert verdict(1.56, 1.3, at_most=True) == "missed by 20 %"
    assert verdict(80.0, 100.0, at_most=False) == "missed by 20 %"
    assert verdict(4.0, 4.0, at_most=False) == "met"
    assert verdict(math.nan, 1.0, at_most=True) == "not measured"
    assert fmt(math.nan) == "n/a"
    assert fmt(1.23456, 2) == "1.23"


def test_a_verdict_against_a_zero_target_counts_what_is_over_it() -> None:
    assert verdict(0, 0, at_most=True) == "met"
    assert verdict(3, 0, at_most=True) == "missed by 3"
    assert verdict(0.5, 0.0, at_most=True) == "missed by 0.5"
