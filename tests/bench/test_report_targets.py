"""The targets table of the perf report: a run with failed requests still gets its verdicts."""

from __future__ import annotations

from pathlib import Path

from bench.http_load import Outcome
from bench.loadtest import LoadRun, ServiceRun
from bench.perf_results import Results
from bench.report_targets import targets
from bench.track import Track


def test_failed_requests_at_8_clients_miss_the_zero_errors_target_by_their_count(tmp_path: Path) -> None:
    outcomes = [Outcome("song", 200, 0.5, 0.0, 200)] * 6 + [Outcome("song", 0, 2.0, 0.0, 200)] * 2
    service = ServiceRun(
        settings={},
        ready_s=1.0,
        idle_rss=100_000_000,
        sequential=[0.4, 0.5, 0.6],
        levels=[LoadRun(clients=8, outcomes=outcomes, wall_s=4.0, peak_rss=200_000_000)],
    )
    track = Track(tmp_path / "song.flac", 10.0, 16_000, 1, True)
    results = Results("now", track, tmp_path, [], [], service=service)
    rows = {row[0]: row[1:] for row in targets(results)}
    assert rows["8 clients: 0 errors"] == ["2 of 8", "missed by 2"]
    assert rows["peak RSS under 8 clients ≤ 600 MB"] == ["200 MB", "met"]
