"""The hostile-client harness's own parts: options, request builders, response parsing, the
scripted exchange against a tiny local server, log reading and the report's verdicts."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bench import hostile
from bench.hostile_attacks import QUICK, Attack, Check, Group, Outcome, Scale, chunked, one_group
from bench.hostile_bodies import acceptable, finite_json
from bench.hostile_catalogue import ATTACKS
from bench.hostile_report import AttackRun, Header, counts, render, summary_table, verdict
from bench.hostile_session import common_checks
from bench.hostile_watch import LogDelta, Observed, Repeat
from bench.hostile_wire import (
    CLOSED,
    HUNG_UP,
    RESET,
    TIMEOUT,
    Reply,
    big_infer_body,
    drip,
    exchange,
    infer_body,
    many_inputs_body,
    multipart,
    nested_body,
    parse_response,
    post_head,
    reply_from,
    request_head,
)

# -- options -----------------------------------------------------------------------------------


def test_defaults_are_the_full_sizes_and_every_attack() -> None:
    options = hostile.parse_args([])
    assert options.scale == Scale()
    assert options.scale.half_open == 10_000 and options.scale.hold_s == 30.0
    assert options.only == tuple(a.key for a in ATTACKS)
    assert options.report.name == "hostile.md" and options.report.parent.name == "reports"
    assert options.command_line == "python -m bench.hostile"


def test_quick_scales_down_and_an_option_still_wins() -> None:
    options = hostile.parse_args(["--quick", "--half-open", "50", "--set", "SONGID_MAX_QUEUED_REQUESTS=4"])
    assert options.scale.half_open == 50
    assert options.scale.hold_s == QUICK.hold_s < Scale().hold_s
    assert options.scale.slow_s < Scale().slow_s
    assert options.settings == {"SONGID_MAX_QUEUED_REQUESTS": "4"}
    assert options.command_line == (
        "python -m bench.hostile --quick --half-open 50 --set SONGID_MAX_QUEUED_REQUESTS=4"
    )


def test_only_names_known_attacks() -> None:
    assert hostile.parse_args(["--only", "small,half-open"]).only == ("small", "half-open")
    with pytest.raises(SystemExit):
        hostile.parse_args(["--only", "half-open,nonsense"])


# -- request builders --------------------------------------------------------------------------


def test_a_half_open_head_never_ends_its_headers() -> None:
    assert request_head("GET", "/labels", complete=False) == b"GET /labels HTTP/1.1\r\nHost: x\r\n"
    assert request_head("HEAD", "/healthz").endswith(b"Host: x\r\n\r\n")


def test_post_head_declares_the_length_and_the_request_id() -> None:
    head = post_head("/predict", 1234, "application/json", "hostile-1").decode()
    assert head.startswith("POST /predict HTTP/1.1\r\n")
    assert "Content-Length: 1234\r\n" in head and "X-Request-ID: hostile-1\r\n" in head
    assert "X-Request-ID" not in post_head("/predict", 1, "text/plain").decode()


def test_multipart_wraps_the_file_in_one_field() -> None:
    body, content_type = multipart(b"RIFF....", boundary="b0")
    assert content_type == "multipart/form-data; boundary=b0"
    assert body.startswith(b'--b0\r\nContent-Disposition: form-data; name="file"; filename="upload.bin"\r\n')
    assert body.endswith(b"\r\n\r\nRIFF....\r\n--b0--\r\n")


def test_the_big_body_is_valid_json_of_the_target_size() -> None:
    body = big_infer_body("mel", [2, 3, 4, 1], 5_000, pool=7)
    request = json.loads(body)
    assert len(request["inputs"][0]["data"]) == 24
    assert request["inputs"][0]["shape"] == [2, 3, 4, 1]
    assert 4_800 <= len(body) <= 5_000


def test_many_inputs_and_nesting() -> None:
    request = json.loads(many_inputs_body(5))
    assert [i["name"] for i in request["inputs"]] == ["in0", "in1", "in2", "in3", "in4"]
    assert nested_body(b"[", b"", b"]", 3) == b"[[[]]]"
    assert nested_body(b'{"a":', b"0", b"}", 2) == b'{"a":{"a":0}}'
    assert json.loads(infer_body("mel", [1, 2], b"1,2")) == {
        "inputs": [{"name": "mel", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]
    }


def test_drip_sends_five_bytes_a_second() -> None:
    steps = list(drip(b"abcdefghijkl", bytes_per_s=5.0))
    assert [bytes(s) for s in steps[::2]] == [b"abcde", b"fghij", b"kl"]  # type: ignore[arg-type]
    assert steps[1::2] == [1.0, 1.0, 1.0]


def test_chunked_encoding() -> None:
    assert chunked(b"hello") == b"5\r\nhello\r\n0\r\n\r\n"


# -- responses ---------------------------------------------------------------------------------


def test_a_response_is_complete_when_its_content_length_is_in() -> None:
    head = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 4\r\ncontent-type: application/json\r\n\r\n"
    assert parse_response(b"HTTP/1.1 408 Req") is None
    partial = parse_response(head + b"{}")
    assert partial is not None and not partial.complete
    done = parse_response(head + b'{"a"')
    assert done is not None and done.complete and done.status == "408" and done.body == b'{"a"'
    assert done.headers["content-type"] == "application/json"


def test_head_chunked_and_unframed_responses() -> None:
    head_only = parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\n\r\n", head_request=True)
    assert head_only is not None and head_only.complete
    chunks = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    parsed = parse_response(chunks)
    assert parsed is not None and parsed.complete and parsed.body == b"abcde"
    unframed = b"HTTP/1.1 400 Bad Request\r\n\r\nInvalid"
    assert not parse_response(unframed).complete  # type: ignore[union-attr]
    assert parse_response(unframed, at_eof=True).complete  # type: ignore[union-attr]


def test_replies_from_what_arrived() -> None:
    assert reply_from(b"", 1.5).status == CLOSED
    reply = reply_from(b"HTTP/1.1 400 Bad\r\ncontent-length: 2\r\n\r\n{}", 0.1)
    assert (reply.status, reply.body_size, reply.is_json) == ("400", 2, True)
    assert not reply_from(b"HTTP/1.1 400 Bad\r\n\r\nInvalid HTTP request", 0.1).is_json


# -- the exchange, against a local server ------------------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _against(handler: Handler, play: Callable[[int], Awaitable[Reply]]) -> Reply:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await play(port)
    finally:
        server.close()


async def _answer_408(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"Host: x\r\n")
    writer.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 2\r\n\r\n{}")
    await writer.drain()
    writer.close()


async def _close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1)
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()


def test_exchange_reads_an_answer_given_while_the_client_is_still_sending() -> None:
    script = [request_head("GET", "/labels", complete=False), *drip(b"x" * 100, bytes_per_s=1000.0)]
    reply = asyncio.run(_against(_answer_408, lambda port: exchange(port, script, wait_s=5.0)))
    assert reply.status == "408" and reply.is_json and reply.seconds < 5.0


@pytest.mark.parametrize(
    ("handler", "hang_up", "expected"),
    [(_close, False, (CLOSED, RESET)), (_silent, False, (TIMEOUT,)), (_silent, True, (HUNG_UP,))],
)
def test_exchange_pseudo_statuses(handler: Handler, hang_up: bool, expected: tuple[str, ...]) -> None:
    script = [b"GET / HTTP/1.1\r\n"]
    play = lambda port: exchange(port, script, wait_s=0.3, hang_up=hang_up)  # noqa: E731
    assert asyncio.run(_against(handler, play)).status in expected


# -- judging and the log -----------------------------------------------------------------------


def test_acceptable_answers_to_the_500_hunt() -> None:
    assert not finite_json(b'{"p": NaN}') and not finite_json(b"[Infinity]") and finite_json(b"[1.5]")
    assert acceptable(Reply("400", 0.1), Counter())
    assert acceptable(Reply("200", 0.1, body=b'{"p": [0.5]}'), Counter({200: 1}))
    assert not acceptable(Reply("200", 0.1, body=b'{"p": [NaN]}'), Counter())
    assert not acceptable(Reply("500", 0.1), Counter())
    assert not acceptable(Reply(TIMEOUT, 0.1), Counter())
    assert acceptable(Reply(HUNG_UP, 0.1), Counter({400: 1}))
    assert not acceptable(Reply(HUNG_UP, 0.1), Counter({500: 1}))


def test_the_log_delta_counts_statuses_per_request_and_errors(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    records = [
        {"logger": "uvicorn.error", "level": "info", "message": "started"},
        {"logger": "service.access", "level": "info", "status": 200, "request_id": "a"},
        {"logger": "service.access", "level": "info", "status": 500, "request_id": "hostile-1"},
        {"logger": "service.errors", "level": "error", "message": "boom"},
    ]
    text = "\n".join(json.dumps(r) for r in records) + "\nTraceback (most recent call last):\n"
    log.write_text(text)
    start = len(json.dumps(records[0])) + 1
    delta = LogDelta.read(log, start, len(text))
    assert delta.size == len(text) - start
    assert delta.statuses == Counter({200: 1, 500: 1})
    assert delta.by_request == {"a": [200], "hostile-1": [500]}
    assert delta.errors == 2


# -- the report --------------------------------------------------------------------------------


def observed(**overrides: object) -> Observed:
    values: dict[str, object] = {
        "healthz": [(200, 0.004), (200, 0.010)],
        "normal": [(200, 0.06), (200, 0.08), (503, 0.001)],
        "unloaded_s": 0.05,
        "unloaded_when": "start of run",
        "rss_start": 160_000_000,
        "rss_peak": 170_000_000,
        "fds_start": 10,
        "fds_peak": 1010,
        "log": LogDelta(2048, Counter({200: 3})),
        "wall_s": 12.0,
        "harness_cpu_s": 0.5,
        "alive": True,
        **overrides,
    }
    return Observed(**values)  # type: ignore[arg-type]


async def _nothing(*_: object) -> Outcome:
    return Outcome([])


def test_repeat_calls_its_action_in_the_background_until_the_block_ends() -> None:
    calls: list[int] = []

    def action() -> int:
        calls.append(len(calls))
        return len(calls)

    with Repeat(action, 0.001, "test-repeat") as repeat:
        deadline = time.monotonic() + 5.0  # generous: a loaded machine may schedule the thread late
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.001)
    after = len(calls)
    time.sleep(0.02)
    assert after >= 3 and len(calls) == after  # nothing runs once the block has ended
    assert repeat.results == list(range(1, after + 1))


def test_observed_healthz_and_ratio() -> None:
    seen = observed()
    assert seen.healthz_within and seen.normal_s == pytest.approx(0.07)
    assert seen.normal_ratio == pytest.approx(1.4)
    slow = observed(healthz=[(200, 0.004), (200, 1.5), (0, 5.0)])
    assert (slow.healthz_slow, slow.healthz_failed, slow.healthz_within) == (1, 1, False)
    assert not observed(healthz=[]).healthz_within


def test_verdicts_come_from_the_checks() -> None:
    attack = Attack("half-open", "Half-open connections", "/healthz within 1 s", _nothing, True)
    replies = [Reply("408", 10.0, body_size=90), Reply(TIMEOUT, 15.0)]
    outcome = Outcome([Group("heads never finished", "2 connections", replies)], ["Connected: 2 of 2"])
    good = AttackRun(attack, outcome, observed(), [Check("healthz within 1 s throughout", True)])
    bad = AttackRun(attack, outcome, observed(alive=False), [Check("server alive after", False, "gone")])
    assert good.passed and not bad.passed
    assert verdict(bad.checks) == "server alive after: no (gone)"
    assert one_group([Group("a", "", [], ok=True), Group("b", "", [], ok=False)], "all").detail == "not: b"
    assert counts(Counter({TIMEOUT: 1, "408": 1, "200": 2})) == "200: 2, 408: 1, timeout: 1"
    table = summary_table([good, bad])
    assert "| half-open | yes | 7 / 10 | 0 / 0 | 1.40 x, 1 of 3 not 200 | 170 | 1010 | 2.0 | yes |" in table
    assert table.splitlines()[-1].endswith("| no |")
    header = Header(
        command_line="python -m bench.hostile --quick",
        started="2026-01-01 00:00 UTC",
        machine=["- CPU: test"],
        settings={},
        server_command=("scripts/serve",),
        server_fd_limit=1024,
        harness_fd_limit=20_000,
        upload="10 s synthetic FLAC",
        unloaded_s=[0.05, 0.05],
        healthz_every_s=0.25,
        healthz_timeout_s=5.0,
        scale=QUICK,
        others={"half-open": "12 / 40 %"},
    )
    text = render([good, bad], header)
    assert "| other processes' CPU (mean / max, % of a core) | 12 / 40 % |" in text
    assert "while measuring it (mean / max, % of a core): not sampled" in text
    assert "`python -m bench.hostile --quick`" in text and "- CPU: test" in text
    assert "**Verdict: PASS**" in text and "**Verdict: FAIL** — server alive after: no (gone)." in text
    assert "| heads never finished | 2 connections | 408: 1, timeout: 1 | 90 |" in text
    assert "Attacks missing a target: half-open." in text


def test_the_normal_client_must_be_answered_within_twice_its_unloaded_latency() -> None:
    attack = Attack("slow-upload", "Slow uploads", "within 2 x", _nothing, True)
    quick = observed(normal=[(200, 0.06), (200, 0.08)])
    refused = observed(normal=[(200, 0.06), (503, 0.001), (503, 0.001)])
    slow = observed(normal=[(200, 0.5)])

    def normal_check(seen: Observed) -> Check:
        return next(c for c in common_checks(attack, seen) if c.name.startswith("normal client"))

    assert normal_check(quick).passed and normal_check(quick).detail == "1.4 x"
    assert not normal_check(refused).passed and normal_check(refused).detail == "1.2 x; 2 of 3 not 200"
    assert not normal_check(slow).passed
    assert not normal_check(observed(normal=[])).passed
    others = Attack("big-json", "Big", "an answer", _nothing)
    assert [c.name for c in common_checks(others, slow)] == [
        "healthz within 1 s throughout",
        "server alive after",
    ]
