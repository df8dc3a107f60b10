"""The attacks of ``bench.hostile`` that send malformed or extreme requests one at a time
(bodies hunting for a 500, and smaller items) and judge each answer."""

from __future__ import annotations

import asyncio
import io
import json
import math
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from bench.hostile_attacks import Group, Outcome, Scale, Target, chunked, one_group, zeros_body
from bench.hostile_watch import LogDelta, log_size
from bench.hostile_wire import (
    HUNG_UP,
    Reply,
    Step,
    exchange,
    infer_body,
    multipart,
    nested_body,
    pieces,
    post_head,
    request_head,
)

NEAR_MAX_FLOAT = 3e38  # finite in float32 (max 3.4e38), infinite once squared
LOG_SETTLE_S = 0.5  # for the server to write the access-log line of a request just answered
URL_PIECES = 10
URL_PAUSE_S = 0.2


def finite_json(body: bytes) -> bool:
    """JSON with no NaN or infinite number in it."""

    def refuse(token: str) -> float:
        raise ValueError(token)

    try:
        json.loads(body, parse_constant=refuse)
    except ValueError:
        return False
    return True


def acceptable(reply: Reply, logged: Counter[int]) -> bool:
    """Any 4xx, or 200 with finite numbers; never 5xx (in the answer or in the server's log)."""
    if any(status >= 500 for status in logged):
        return False
    if reply.status == HUNG_UP:
        return True
    if reply.status.isdigit() and 400 <= int(reply.status) < 500:
        return True
    return reply.status == "200" and finite_json(reply.body)


def huge_wav(seconds: float = 10.0, rate: int = 16_000) -> bytes:
    """A float32 WAV whose samples are finite but near the largest float32."""
    rng = np.random.default_rng(0)
    n = int(seconds * rate)
    samples = NEAR_MAX_FLOAT * (0.9 + 0.1 * rng.random(n)) * np.where(np.arange(n) % 2, 1.0, -1.0)
    buffer = io.BytesIO()
    sf.write(buffer, samples.astype(np.float32), rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


async def _logged(
    t: Target, request_id: str, request: Awaitable[Reply], settle_s: float
) -> tuple[Reply, Counter[int]]:
    """The reply, and the statuses the server's access log recorded for the request."""
    start = log_size(t.log_path)
    reply = await request
    await asyncio.sleep(settle_s)
    logged = LogDelta.read(t.log_path, start, log_size(t.log_path)).by_request.get(request_id, [])
    return reply, Counter(logged)


async def bad_bodies(t: Target, s: Scale) -> Outcome:
    infer = f"/v2/models/{t.model}/infer"
    one = [1, *t.input_shape]
    n = math.prod(t.input_shape)
    zeros = zeros_body(t)
    huge = ",".join(f"{v:.6e}" for v in np.linspace(2.9e38, 3.0e38, n)).encode()
    wav_body, wav_type = multipart(huge_wav())
    d = s.nest_depth
    cases: list[tuple[str, str, bytes, str]] = [
        (f"{d:,} nested `[`", infer, b'{"inputs":' + nested_body(b"[", b"", b"]", d) + b"}", ""),
        (f'{d:,} nested `{{"a":`', infer, nested_body(b'{"a":', b"0", b"}", d), ""),
        (
            f"a {s.big_digits:,}-digit integer in data",
            infer,
            infer_body(t.input_name, one, b"9" * s.big_digits),
            "",
        ),
        ("`1e400` in data", infer, infer_body(t.input_name, one, b"1e400"), ""),
        ("10**400 written out in data", infer, infer_body(t.input_name, one, b"1" + b"0" * 400), ""),
        ("mel values near 3e38", infer, infer_body(t.input_name, one, huge), ""),
        ("float WAV near 3e38, timeline", "/predict?timeline=true", wav_body, wav_type),
        ("float WAV near 3e38", "/predict", wav_body, wav_type),
    ]
    groups = []
    for i, (what, path, body, content_type) in enumerate(cases):
        request_id = f"hostile-{i}"
        head = post_head(path, len(body), content_type or "application/json", request_id)
        request = exchange(t.port, [head, body], wait_s=s.request_wait_s)
        reply, logged = await _logged(t, request_id, request, LOG_SETTLE_S)
        sent = f"{len(body):,} bytes to {path.split('?')[0]}"
        groups.append(
            Group(what, sent, [reply], "4xx, or 200 with finite numbers", acceptable(reply, logged), logged)
        )
    half = zeros[: len(zeros) // 2]
    script: list[Step] = [post_head(infer, len(zeros), "application/json", "hostile-hang-up"), half, 0.2]
    request = exchange(t.port, script, wait_s=10.0, hang_up=True)
    reply, logged = await _logged(t, "hostile-hang-up", request, 2.0)
    what = "client hangs up mid-body"
    sent = f"{len(half):,} of {len(zeros):,} declared bytes to {infer}, then closed"
    groups.append(Group(what, sent, [reply], "no 5xx logged", acceptable(reply, logged), logged))
    return Outcome(groups, [], [one_group(groups, "never 5xx")])


@dataclass(frozen=True)
class Item:
    what: str
    port: int
    script: list[Step]
    expected: str
    judge: Callable[[Reply], bool]
    head_request: bool = False

    @property
    def size(self) -> int:
        return sum(len(step) for step in self.script if not isinstance(step, float))


def _is_2xx(reply: Reply) -> bool:
    return reply.status.startswith("2")


def _is(status: str) -> Callable[[Reply], bool]:
    return lambda reply: reply.status == status


def _json_4xx(statuses: tuple[str, ...]) -> Callable[[Reply], bool]:
    return lambda reply: reply.status in statuses and reply.is_json


async def small_items(t: Target, s: Scale) -> Outcome:
    infer = f"/v2/models/{t.model}/infer"
    valid = zeros_body(t)
    both = {"Transfer-Encoding": "chunked", "Content-Length": str(len(valid)), "Connection": "close"}
    url = request_head("GET", f"/labels?q={'a' * (s.long_url_kb * 1024)}")
    url_steps: list[Step] = []
    for piece in pieces(url, -(-len(url) // URL_PIECES)):
        url_steps += [bytes(piece), URL_PAUSE_S]
    items = [
        Item("HEAD /healthz", t.port, [request_head("HEAD", "/healthz")], "not 405", _is_2xx, True),
        Item("HEAD /labels", t.port, [request_head("HEAD", "/labels")], "not 405", _is_2xx, True),
        Item(
            "valid /v2 body, both chunked and Content-Length",
            t.port,
            [request_head("POST", infer, both), chunked(valid)],
            "400",
            _is("400"),
        ),
        Item(
            f"{len(url) // 1024} KB URL in {URL_PIECES} pieces, {URL_PAUSE_S:g} s apart",
            t.port,
            url_steps,
            "JSON 414, 400 or 431",
            _json_4xx(("414", "400", "431")),
        ),
    ]
    if t.keyed_port is not None:
        for path, want in (("/v2/health/live", "200"), ("/v2/health/ready", "200"), ("/labels", "401")):
            what = f"GET {path} without a key (API keys set)"
            items.append(Item(what, t.keyed_port, [request_head("GET", path)], want, _is(want)))
    groups = []
    for item in items:
        reply = await exchange(item.port, item.script, wait_s=30.0, head_request=item.head_request)
        groups.append(Group(item.what, f"{item.size:,} bytes", [reply], item.expected, item.judge(reply)))
    return Outcome(groups, [], [one_group(groups, "every item as expected")])
