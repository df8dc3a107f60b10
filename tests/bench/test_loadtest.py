"""Which server settings the harness measures in full."""

from __future__ import annotations

from bench.http_load import Outcome
from bench.loadtest import Candidate, CandidateRun, LoadRun, choose


def run(
    name: str, settings: dict[str, str], *, single_s: float, songs_per_s: float, errors: int = 0
) -> CandidateRun:
    outcomes = [Outcome("track", 200, 1.0, 0.0, 200)] * 24 + [Outcome("track", 503, 0.0, 0.0, 200)] * errors
    return CandidateRun(
        Candidate(name, settings), 1.0, 0, [single_s] * 6, LoadRun(8, outcomes, 24 / songs_per_s, 10**8)
    )


def test_on_a_tie_of_targets_the_shipped_defaults_win_over_a_little_more_throughput() -> None:
    defaults = run("defaults", {}, single_s=0.37, songs_per_s=3.30)
    tuned = run("intra 1", {"SONGID_INTRA_OP_THREADS": "1"}, single_s=0.40, songs_per_s=3.31)
    assert choose([tuned, defaults], rss_limit=600 * 10**6, floor_s=0.341) is defaults


def test_settings_meeting_more_targets_beat_the_defaults() -> None:
    defaults = run("defaults", {}, single_s=0.50, songs_per_s=3.30)  # 1.47 x floor: latency missed
    tuned = run("tuned", {"SONGID_BATCH_SIZE": "4"}, single_s=0.40, songs_per_s=3.0)
    assert choose([defaults, tuned], rss_limit=600 * 10**6, floor_s=0.341) is tuned


def test_errors_rule_a_candidate_out() -> None:
    defaults = run("defaults", {}, single_s=0.37, songs_per_s=3.30, errors=2)
    tuned = run("intra 1", {"SONGID_INTRA_OP_THREADS": "1"}, single_s=0.40, songs_per_s=3.0)
    assert choose([defaults, tuned], rss_limit=600 * 10**6, floor_s=0.341) is tuned
