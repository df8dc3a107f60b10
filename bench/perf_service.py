"""The service sections of ``python -m bench.perf``: server settings, load at each level, cold starts."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bench.http_load import Upload
from bench.loadtest import (
    Candidate,
    CandidateRun,
    ColdStart,
    ServiceRun,
    choose,
    cold_start,
    measure_service,
    try_candidates,
)
from bench.perf_options import Options
from service.settings import Settings

RSS_LIMIT = 600 * 10**6  # bytes: the most a candidate may hold under 8 clients
QUEUE = Settings.model_fields["max_queued_requests"].default  # the shipped queue, named in the table


def candidates() -> list[Candidate]:
    """The shipped defaults and other server settings that let 8 clients through."""
    return [
        Candidate(f"shipped defaults (2 slots, queue {QUEUE}, automatic threads, batch 8)", {}),
        Candidate("2 slots, no queue", {"SONGID_MAX_QUEUED_REQUESTS": "0"}),
        Candidate(f"2 slots + queue {QUEUE}, intra 1", {"SONGID_INTRA_OP_THREADS": "1"}),
        Candidate(f"2 slots + queue {QUEUE}, intra 2", {"SONGID_INTRA_OP_THREADS": "2"}),
        Candidate(f"2 slots + queue {QUEUE}, automatic threads, batch 32", {"SONGID_BATCH_SIZE": "32"}),
        Candidate(
            "8 slots, intra 1",
            {"SONGID_MAX_CONCURRENT_REQUESTS": "8", "SONGID_INTRA_OP_THREADS": "1"},
        ),
    ]


def measure_settings(
    options: Options, upload: Upload, floor_s: float | None, log: Callable[[str], None]
) -> tuple[list[CandidateRun], CandidateRun, ServiceRun]:
    """Every candidate with 8 clients, the one chosen, and the chosen settings at each level.

    ``floor_s``: the in-process floor in seconds per song (None when not measured), for the choice.
    """
    log("server settings with 8 clients")
    runs = try_candidates(
        options.model_dir,
        upload,
        candidates(),
        clients=max(options.levels),
        requests=options.candidate_requests,
        command=options.server_command,
    )
    chosen = choose(runs, rss_limit=RSS_LIMIT, floor_s=floor_s)
    log(f"chosen: {chosen.candidate.name}")
    service = measure_service(
        options.model_dir,
        upload,
        chosen.candidate.settings,
        sequential_requests=options.sequential_requests,
        levels=options.levels,
        requests_per_level=options.requests,
        command=options.server_command,
    )
    return runs, chosen, service


def measure_cold_starts(
    options: Options, upload: Upload, settings: Mapping[str, str], log: Callable[[str], None]
) -> list[ColdStart]:
    """``options.cold_starts`` cold starts with ``settings``, after one unreported start.

    The first start of a run also pays one-time setup (see the report), so it is left out.
    """
    starts = []
    for i in range(options.cold_starts + 1):
        log(f"cold start {i}")
        start = cold_start(
            options.model_dir, upload, settings, steady_requests=5, command=options.server_command
        )
        if i > 0:
            starts.append(start)
    return starts
