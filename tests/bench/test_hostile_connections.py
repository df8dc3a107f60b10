"""The connection-level attacks' own parts: reading raw answers, judging them, the class targets
and their table, against a tiny local server where a server is needed."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from bench.hostile_attacks import Group, Outcome
from bench.hostile_catalogue import ATTACKS
from bench.hostile_connections import (
    Raw,
    _nested_segment,
    answered_once,
    connection_checks,
    raw,
    server_errors,
    status_lines,
)
from bench.hostile_report import AttackRun, connection_table
from bench.hostile_watch import LogDelta
from bench.hostile_wire import Reply
from tests.bench.test_hostile import observed

ANSWER = b"HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}"


def test_status_lines_and_one_answer_then_closed() -> None:
    assert status_lines(ANSWER + b"HTTP/1.1 408 Request Timeout\r\n\r\n") == ["404", "408"]
    once = Raw(["404"], True, 0.1, 0, ANSWER)
    assert answered_once([once], "404")
    assert not answered_once([Raw(["404", "408"], True, 10.0, 0, ANSWER)], "404")  # a second answer
    assert not answered_once([Raw(["404"], False, 10.0, 0, ANSWER)], "404")  # left open
    assert not answered_once([Raw(["404"], True, 0.1, 0, ANSWER.replace(b"close", b"keep-alive"))], "404")
    assert once.reply().status == "404" and once.reply().body == b"{}"
    assert Raw([], False, 5.0, 0, b"").reply().status == "timeout"


def test_nested_segment_is_the_shape_in_lists() -> None:
    assert json.loads(b"[" + _nested_segment((2, 3, 1)) + b"]") == [[[0], [0], [0]], [[0], [0], [0]]]


async def _endless_reader(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(100)
    writer.write(ANSWER)
    await writer.drain()
    writer.close()  # answered after 100 bytes; the rest is never read


def test_raw_stops_sending_once_the_server_closes() -> None:
    async def play() -> Raw:
        server = await asyncio.start_server(_endless_reader, "127.0.0.1", 0)
        try:
            return await raw(
                server.sockets[0].getsockname()[1], b"POST / HTTP/1.1\r\n\r\n", b"x" * 1024, wait_s=5.0
            )
        finally:
            server.close()

    got = asyncio.run(play())
    assert got.statuses == ["404"] and got.closed and got.seconds < 5.0


def test_the_class_targets() -> None:
    quiet = observed(healthz=[(200, 0.004)] * 99 + [(200, 0.05)], rss_start=100_000_000, rss_peak=150_000_000)
    fine = Outcome([Group("a", "", [Reply("400", 0.1)])])
    assert all(check.passed for check in connection_checks(quiet, fine))
    slow = observed(healthz=[(200, 0.004)] * 90 + [(200, 0.5)] * 10)
    assert not next(c for c in connection_checks(slow, fine) if c.name.startswith("healthz p99")).passed
    grown = observed(rss_start=100_000_000, rss_peak=200_000_000)
    assert not next(c for c in connection_checks(grown, fine) if c.name.startswith("peak RSS")).passed
    errors = observed(log=LogDelta(10, Counter({503: 4, 500: 1})))
    bad = Outcome([Group("a", "", [Reply("502", 0.1), Reply("503", 0.1)])])
    assert server_errors(errors, bad) == 2  # the logged 500 and the 502 got; 503 is allowed


def test_every_class_is_an_attack_with_the_targets_and_its_table_row() -> None:
    classes = [a for a in ATTACKS if a.connection_targets]
    assert [a.key for a in classes] == ["v2-structure", "early-answer", "smuggle", "big-head", "no-read"]
    assert all(a.normal_within_2x and a.title.startswith(f"Class {i}:") for i, a in enumerate(classes, 1))
    assert dict(classes[-1].settings) == {"SONGID_MAX_CONNECTIONS": "50"}
    seen = observed(rss_start=100_000_000, rss_peak=120_000_000, rss_end=110_000_000)
    run = AttackRun(classes[0], Outcome([]), seen, connection_checks(seen, Outcome([])))
    table = "\n".join(connection_table([run]))
    assert "| v2-structure | yes | 10 | 1.40 x, 1 of 3 not 200 | 100 / 120 / 110 | 0 |" in table
    assert connection_table([]) == []


def test_failed_probes_are_told_by_status() -> None:
    assert observed().healthz_failures == ""
    assert (
        observed(healthz=[(200, 0.01), (503, 0.01), (0, 5.0), (503, 0.02)]).healthz_failures
        == " (0: 1, 503: 2)"
    )
