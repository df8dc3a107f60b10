"""The attacks of ``bench.hostile``: each sends its hostile requests to the server on loopback,
bounded in count and time by a :class:`Scale`, and returns what every request got."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.hostile_wire import (
    CONNECT_FAILED,
    TIMEOUT,
    Reply,
    Step,
    big_infer_body,
    drip,
    exchange,
    infer_body,
    many_inputs_body,
    multipart,
    pieces,
    post_head,
    request_head,
)
from bench.stats import median

ERROR_BODY_LIMIT = 2048  # an error message bounded to about 1 KB, in the service's JSON envelope


@dataclass(frozen=True)
class Scale:
    """How much of each attack to send; every count and duration is bounded here."""

    half_open: int = 10_000
    hold_s: float = 30.0
    connect_gate: int = 256  # connections being opened at once
    slow_clients: int = 20
    slow_s: float = 60.0
    slow_rate: float = 5.0  # bytes per second
    silent_clients: int = 2  # per route, for "Content-Length larger than what is sent"
    big_json_mb: float = 99.0
    many_inputs: int = 300_000
    nest_depth: int = 100_000
    big_digits: int = 5_000
    long_url_kb: int = 100
    request_wait_s: float = 120.0  # the longest any single hostile request is waited for
    structure_s: float = 10.0  # /v2 bodies whose structure is the weapon, sent back to back
    empty_objects: int = 300_000
    early_clients: int = 2  # per case, bodies going on after an early answer
    early_s: float = 10.0
    smuggle_requests: int = 20
    head_requests: int = 20  # per kind of head over the limits
    no_read_clients: int = 50
    no_read_hold_s: float = 30.0


QUICK = Scale(
    half_open=1_000,
    hold_s=15.0,
    slow_s=15.0,
    big_json_mb=25.0,
    many_inputs=100_000,
    structure_s=5.0,
    early_s=5.0,
    no_read_hold_s=15.0,
)


@dataclass(frozen=True)
class Target:
    """The server under attack and what the attacks need to know of it."""

    port: int
    log_path: Path
    model: str
    input_name: str
    input_shape: tuple[int, ...]  # one segment, without the batch axis
    song: bytes  # the normal client's upload, reused as a body
    keyed_port: int | None = None  # a second server with API keys configured


@dataclass(frozen=True)
class Group:
    """Requests of one kind: what was sent, what each got, what was expected."""

    what: str
    sent: str
    replies: list[Reply]
    expected: str = ""
    ok: bool | None = None  # None: no target for these requests
    logged: Counter[int] = field(default_factory=Counter)  # statuses in the server's access log

    @property
    def statuses(self) -> Counter[str]:
        return Counter(r.status for r in self.replies)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    groups: list[Group]
    facts: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)


@dataclass(frozen=True)
class Attack:
    key: str
    title: str
    target: str  # the target as the issue states it
    run: Callable[[Target, Scale], Coroutine[Any, Any, Outcome]]
    normal_within_2x: bool = False  # the normal client's latency is part of the target
    # The connection-level targets: /healthz p99, normal client, RSS, no 5xx but 503.
    connection_targets: bool = False
    settings: tuple[tuple[str, str], ...] = ()  # run against a server of its own, with these


def spread(seconds: Sequence[float]) -> str:
    if not seconds:
        return "none"
    low, mid, high = min(seconds), median(seconds), max(seconds)
    return f"{len(seconds)} (after {low:.1f} / {mid:.1f} / {high:.1f} s, min / median / max)"


def one_group(groups: Sequence[Group], name: str) -> Check:
    bad = [g.what for g in groups if g.ok is False]
    return Check(name, not bad, f"not: {'; '.join(bad)}" if bad else "")


def zeros_body(t: Target) -> bytes:
    """A valid inference request: one segment of zeros."""
    return infer_body(t.input_name, [1, *t.input_shape], b",".join([b"0"] * math.prod(t.input_shape)))


def chunked(body: bytes) -> bytes:
    return b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"


async def half_open(t: Target, s: Scale) -> Outcome:
    head = request_head("GET", "/labels", complete=False)
    gate = asyncio.Semaphore(s.connect_gate)
    replies = await asyncio.gather(
        *(exchange(t.port, [head], wait_s=s.hold_s, connect_gate=gate) for _ in range(s.half_open))
    )
    connected = [r for r in replies if r.status != CONNECT_FAILED]
    ended = [r.seconds for r in connected if r.status != TIMEOUT]
    sent = f"{s.half_open} connections, {len(head)} bytes each, held {s.hold_s:g} s"
    group = Group("`GET /labels` headers never finished", sent, replies)
    facts = [
        f"Connected: {len(connected)} of {s.half_open}",
        f"Ended by the server (closed, reset or answered) before the hold ended: {spread(ended)}",
        f"Still open when the hold ended: {sum(1 for r in connected if r.status == TIMEOUT)}",
    ]
    return Outcome([group], facts)


def _answered_408(replies: Sequence[Reply]) -> bool:
    return all(r.status == "408" and r.is_json for r in replies)


async def slow_upload(t: Target, s: Scale) -> Outcome:
    body, content_type = multipart(t.song)
    head = post_head("/predict", len(body), content_type)
    mel = zeros_body(t)
    infer = f"/v2/models/{t.model}/infer"
    silent_predict: list[Step] = [head, body[: len(body) // 2]]
    silent_infer: list[Step] = [post_head(infer, len(mel), "application/json"), mel[: len(mel) // 2]]

    def many(script: Callable[[], list[Step]], count: int) -> list[Awaitable[Reply]]:
        return [exchange(t.port, script(), wait_s=s.slow_s) for _ in range(count)]

    slow = many(lambda: [head, *drip(body, bytes_per_s=s.slow_rate)], s.slow_clients)
    silent_a = many(lambda: silent_predict, s.silent_clients)
    silent_b = many(lambda: silent_infer, s.silent_clients)
    replies = await asyncio.gather(*slow, *silent_a, *silent_b)
    a, b = s.slow_clients, s.slow_clients + s.silent_clients
    groups = [
        Group(
            "POST /predict multipart, dripped",
            f"{s.slow_clients} clients at {s.slow_rate:g} bytes/s, Content-Length {len(body)}",
            replies[:a],
        ),
        Group(
            "POST /predict, half the declared body, then silence",
            f"{s.silent_clients} clients, {len(body) // 2} of {len(body)} bytes",
            replies[a:b],
        ),
        Group(
            f"POST {infer}, half the declared body, then silence",
            f"{s.silent_clients} clients, {len(mel) // 2} of {len(mel)} bytes",
            replies[b:],
        ),
    ]
    groups = [Group(g.what, g.sent, g.replies, "408 JSON", _answered_408(g.replies)) for g in groups]
    facts = [f"Each client waited for an answer at most {s.slow_s:g} s."]
    return Outcome(groups, facts, [one_group(groups, "slow and silent clients answered 408 JSON")])


async def _send_body(t: Target, path: str, body: bytes, s: Scale) -> Reply:
    script: list[Step] = [post_head(path, len(body), "application/json"), *pieces(body, 1 << 20)]
    return await exchange(t.port, script, wait_s=s.request_wait_s)


async def big_json(t: Target, s: Scale) -> Outcome:
    shape = [64, *t.input_shape]
    body = big_infer_body(t.input_name, shape, int(s.big_json_mb * 1e6))
    reply = await _send_body(t, f"/v2/models/{t.model}/infer", body, s)
    ok = reply.status.isdigit() and int(reply.status) < 500
    group = Group(
        f"POST /v2/models/{t.model}/infer, shape {shape}",
        f"1 body of {len(body) / 1e6:.1f} MB",
        [reply],
        "an answer, not 5xx",
        ok,
    )
    facts = [f"Answered after {reply.seconds:.1f} s with {reply.status} ({reply.body_size} bytes)"]
    return Outcome([group], facts, [Check("answered without 5xx", ok, reply.status)])


async def many_inputs(t: Target, s: Scale) -> Outcome:
    body = many_inputs_body(s.many_inputs)
    reply = await _send_body(t, f"/v2/models/{t.model}/infer", body, s)
    ok = reply.status.startswith("4") and reply.body_size <= ERROR_BODY_LIMIT
    group = Group(
        f"POST /v2/models/{t.model}/infer, {s.many_inputs} inputs",
        f"1 body of {len(body) / 1e6:.1f} MB",
        [reply],
        f"4xx, body <= {ERROR_BODY_LIMIT} bytes",
        ok,
    )
    detail = f"{reply.status}, {reply.body_size} bytes"
    return Outcome([group], [], [Check(f"4xx with an error body <= {ERROR_BODY_LIMIT} bytes", ok, detail)])
