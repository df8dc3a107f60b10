"""``python -m bench.hostile [--quick]``: hostile clients against the real server, on loopback.

Starts the server as the README does (``scripts/serve`` on a free loopback port, the shipped
settings unless ``--set`` says otherwise) and runs each attack of ``bench.hostile_attacks`` in
turn: half-open connections, slow uploads, a big and a many-input /v2 body, bodies hunting for
a 500, and smaller items (HEAD, chunked with Content-Length, health routes with API keys, a long
URL). Every count and duration is bounded by an option; ``--quick`` scales them down to about a
minute in all. During each attack it probes ``/healthz`` on a new connection every 0.25 s,
runs a normal client uploading a 10 s song to ``/predict`` (its unloaded latency is measured
first, in the same run), samples the server's RSS and open file descriptors, and measures
how much its log grew. Writes ``reports/hostile.md`` and prints a summary table.

Exits 1 when the server died or ``/healthz`` stopped answering (a probe got no 200 within
``--healthz-timeout-s``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import math
import resource
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.common import (
    REPO_ROOT,
    SERVE_SCRIPT,
    LoadMonitor,
    Server,
    Upload,
    machine_lines,
    post,
    synthetic_track,
    tree_fds,
)
from bench.hostile_attacks import (
    QUICK,
    Attack,
    Check,
    Outcome,
    Scale,
    Target,
    big_json,
    half_open,
    many_inputs,
    slow_upload,
)
from bench.hostile_bodies import bad_bodies, small_items
from bench.hostile_connections import (
    big_heads,
    connection_checks,
    early_answer,
    no_read,
    smuggle,
    v2_structure,
)
from bench.hostile_report import AttackRun, Header, render, summary_table
from bench.hostile_watch import CLIENT_PAUSE_S, Observed, Watch, fresh_client
from bench.stats import median

CONNECTION_TARGETS = (
    "/healthz p99 within 100 ms, a normal client within 2 x unloaded, peak RSS under 2 x before, "
    "no 5xx but 503"
)
NORMAL_SONG_S = 10.0
WARM_UP_REQUESTS = 3
SETTLE_S = 15.0  # at most, for the connections of an attack to be gone before the next one


def connection_attack(
    number: int,
    key: str,
    title: str,
    target: str,
    run: Callable[[Target, Scale], Coroutine[Any, Any, Outcome]],
    settings: tuple[tuple[str, str], ...] = (),
) -> Attack:
    """An attack of connection-level class ``number`` (1-5), held to the connection targets."""
    title = f"Class {number}: {title}"
    return Attack(key, title, f"{target}; {CONNECTION_TARGETS}", run, True, True, settings)


ATTACKS: tuple[Attack, ...] = (
    Attack("half-open", "Half-open connections", "/healthz within 1 s throughout", half_open, True),
    Attack(
        "slow-upload",
        "Slow uploads",
        "a normal client's /predict within 2 x its unloaded latency; slow clients get 408 JSON",
        slow_upload,
        True,
    ),
    Attack("big-json", "/v2 big JSON body", "an answer, /healthz within 1 s throughout", big_json),
    Attack("many-inputs", "/v2 body with many inputs", "a 4xx error body of about 1 KB", many_inputs),
    Attack(
        "bad-bodies",
        "Bodies hunting for a 500",
        "any 4xx (or 200 with finite numbers), never 500",
        bad_bodies,
    ),
    Attack("small", "Smaller items", "each item's expected status", small_items),
    connection_attack(1, "v2-structure", "/v2 bodies whose structure is the weapon", "400", v2_structure),
    connection_attack(2, "early-answer", "bodies going on after an early answer", "one answer", early_answer),
    connection_attack(3, "smuggle", "a body framed twice, a request hidden after it", "400, closed", smuggle),
    connection_attack(4, "big-head", "heads over the limits in one write", "400, closed", big_heads),
    connection_attack(
        5,
        "no-read",
        "clients pipelining requests and never reading, at a cap of 50 connections",
        "each closed by the server",
        no_read,
        (("SONGID_MAX_CONNECTIONS", "50"),),
    ),
)
ATTACK_KEYS = tuple(a.key for a in ATTACKS)


@dataclass(frozen=True)
class Options:
    quick: bool
    report: Path
    only: tuple[str, ...]
    model_dir: Path
    settings: dict[str, str]
    server_command: tuple[str, ...]
    scale: Scale
    healthz_every_s: float
    healthz_timeout_s: float
    client_timeout_s: float
    unloaded_requests: int
    command_line: str


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hostile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="every attack scaled down (about a minute)")
    parser.add_argument("--report", type=Path, default=REPO_ROOT / "reports/hostile.md")
    parser.add_argument(
        "--only", default=",".join(ATTACK_KEYS), help=f"comma-separated: {','.join(ATTACK_KEYS)}"
    )
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument(
        "--set", action="append", default=[], metavar="SONGID_X=VALUE", help="server setting (repeatable)"
    )
    parser.add_argument("--server-command", default=" ".join(SERVE_SCRIPT))
    for item in dataclasses.fields(Scale):
        kind = int if isinstance(item.default, int) else float
        flag = "--" + item.name.replace("_", "-")
        quick = getattr(QUICK, item.name)
        parser.add_argument(flag, type=kind, default=None, help=f"default {item.default}, --quick {quick}")
    parser.add_argument("--healthz-every-s", type=float, default=0.25)
    parser.add_argument("--healthz-timeout-s", type=float, default=5.0)
    parser.add_argument("--client-timeout-s", type=float, default=30.0, help="the normal client's")
    parser.add_argument("--unloaded-requests", type=int, default=10)
    args = parser.parse_args(argv)
    only = tuple(key.strip() for key in args.only.split(",") if key.strip())
    unknown = [key for key in only if key not in ATTACK_KEYS]
    if unknown:
        parser.error(f"unknown attack(s) {unknown}; choose from {list(ATTACK_KEYS)}")
    base = QUICK if args.quick else Scale()
    given = {
        f.name: getattr(args, f.name) for f in dataclasses.fields(Scale) if getattr(args, f.name) is not None
    }
    words = list(sys.argv[1:] if argv is None else argv)
    return Options(
        quick=args.quick,
        report=args.report,
        only=only,
        model_dir=args.model_dir,
        settings=dict(item.split("=", 1) for item in args.set),
        server_command=tuple(args.server_command.split()),
        scale=dataclasses.replace(base, **given),
        healthz_every_s=args.healthz_every_s,
        healthz_timeout_s=args.healthz_timeout_s,
        client_timeout_s=args.client_timeout_s,
        unloaded_requests=args.unloaded_requests,
        command_line=shlex.join(["python", "-m", "bench.hostile", *words]),
    )


def raise_fd_limit() -> int:
    """This process's open-file limit raised to its hard limit (the half-open attack needs many)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def start(options: Options, extra: dict[str, str] | None = None) -> Server:
    server = Server(
        options.model_dir, settings={**options.settings, **(extra or {})}, command=options.server_command
    )
    server.start()
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


def describe(server: Server, song: bytes, keyed_port: int | None = None) -> Target:
    with httpx.Client(timeout=10) as client:
        model = client.get(f"{server.url}/readyz").json()["model"]["name"]
        tensor = client.get(f"{server.url}/v2/models/{model}").json()["inputs"][0]
    return Target(
        server.port, server.log_path, model, tensor["name"], tuple(tensor["shape"][1:]), song, keyed_port
    )


def unloaded(
    server: Server, upload: Upload, requests: int, timeout_s: float, warm_up: int = WARM_UP_REQUESTS
) -> list[float]:
    """Seconds of each of ``requests`` normal uploads after ``warm_up`` more, with nothing else running."""
    seconds = []
    with fresh_client(timeout_s) as client:
        for i in range(warm_up + requests):
            status, took = post(client, server.url, upload)
            if status != 200:
                raise RuntimeError(
                    f"the normal client got {status} with no attack running:\n{server.log_tail()}"
                )
            if i >= warm_up:
                seconds.append(took)
            time.sleep(CLIENT_PAUSE_S)  # as during the attacks
    return seconds


def settle(server: Server, fds_before: int) -> None:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline and tree_fds(server.pid) > fds_before + 16:
        time.sleep(0.25)


def common_checks(attack: Attack, seen: Observed) -> list[Check]:
    """The checks every attack shares: /healthz, the server alive, and the normal client's latency
    where the attack's target includes it."""
    checks = [
        Check(
            "healthz within 1 s throughout",
            seen.healthz_within,
            f"{seen.healthz_slow} over 1 s, {seen.healthz_failed} failed{seen.healthz_failures}",
        ),
    ]
    if attack.normal_within_2x:
        ratio, refused = seen.normal_ratio, seen.normal_refused
        detail = "no 200 answer" if math.isnan(ratio) else f"{ratio:.1f} x"
        if refused:
            detail += f"; {refused} of {len(seen.normal)} not 200"
        checks.append(
            Check("normal client answered within 2 x unloaded", ratio <= 2.0 and not refused, detail)
        )
    checks.append(Check("server alive after", seen.alive))
    return checks


@dataclass
class Session:
    runs: list[AttackRun] = dataclasses.field(default_factory=list)
    unloaded_s: list[float] = dataclasses.field(default_factory=list)
    others: dict[str, str] = dataclasses.field(default_factory=dict)  # section -> other processes' CPU
    server_fd_limit: int = 0
    restarts: int = 0


def run_attacks(options: Options, upload: Upload) -> Session:
    """Every attack chosen, in turn, with the CPU of the machine's other processes sampled."""
    session = Session()
    with LoadMonitor(interval_s=1.0) as load:
        _run_attacks(options, upload, session, load)
    for section, mean, top, _, names in load.summary():
        session.others[section] = f"{mean:.0f} / {top:.0f} %" + (f"; busiest: {names}" if names else "")
    return session


def _run_attacks(options: Options, upload: Upload, session: Session, load: LoadMonitor) -> None:
    server = start(options)
    try:
        session.server_fd_limit = psutil.Process(server.pid).rlimit(psutil.RLIMIT_NOFILE)[0]
        load.section("unloaded")
        session.unloaded_s = unloaded(server, upload, options.unloaded_requests, options.client_timeout_s)
        baseline = median(session.unloaded_s)
        print(f"server ready (pid {server.pid}); normal client unloaded: {baseline:.3f} s median", flush=True)
        for attack in (a for a in ATTACKS if a.key in options.only):
            if server.process is None or server.process.poll() is not None:
                server.stop()
                server = start(options)
                session.restarts += 1
            keyed = start(options, {"SONGID_API_KEYS": "hostile-test-key"}) if attack.key == "small" else None
            own = start(options, dict(attack.settings)) if attack.settings else None
            watched = own or server
            try:
                target = describe(watched, upload.content, keyed.port if keyed else None)
                when, reference = "start of run", baseline
                if attack.normal_within_2x:  # measured again, for the machine's load of the moment
                    load.section("between attacks")
                    before = unloaded(watched, upload, options.unloaded_requests, options.client_timeout_s, 1)
                    when, reference = "just before the attack", median(before)
                print(f"attack {attack.key} ...", flush=True)
                load.section(attack.key)
                watch = Watch(
                    watched,
                    upload,
                    unloaded_s=reference,
                    unloaded_when=when,
                    healthz_every_s=options.healthz_every_s,
                    healthz_timeout_s=options.healthz_timeout_s,
                    client_timeout_s=options.client_timeout_s,
                )
                with watch:
                    outcome: Outcome = asyncio.run(attack.run(target, options.scale))
                seen = watch.observed
                assert seen is not None
                if own is None:
                    load.section("between attacks")
                    settle(server, seen.fds_start)
            finally:
                for extra in (keyed, own):
                    if extra is not None:
                        extra.stop()
            checks = [*common_checks(attack, seen), *outcome.checks]
            if attack.connection_targets:
                checks += connection_checks(seen, outcome)
            session.runs.append(AttackRun(attack, outcome, seen, checks))
            load.section("between attacks")
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    fd_limit = raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="songid-hostile-") as folder:
        song = synthetic_track(Path(folder) / "normal-10s.flac", seconds=NORMAL_SONG_S)
        upload = Upload(f"{NORMAL_SONG_S:g} s synthetic FLAC", song.read_bytes())
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    session = run_attacks(options, upload)
    header = Header(
        command_line=options.command_line,
        started=started,
        machine=machine_lines(),
        settings=options.settings,
        server_command=options.server_command,
        server_fd_limit=session.server_fd_limit,
        harness_fd_limit=fd_limit,
        upload=f"{upload.name} ({len(upload.content) / 1e3:.0f} KB)",
        unloaded_s=session.unloaded_s,
        healthz_every_s=options.healthz_every_s,
        healthz_timeout_s=options.healthz_timeout_s,
        scale=options.scale,
        restarts=session.restarts,
        others=session.others,
    )
    options.report.parent.mkdir(parents=True, exist_ok=True)
    options.report.write_text(render(session.runs, header), encoding="utf-8")
    print(summary_table(session.runs))
    print(f"report: {options.report}")
    stopped = [r for r in session.runs if not r.observed.alive or r.observed.healthz_failed]
    return 1 if stopped or session.restarts else 0


if __name__ == "__main__":
    sys.exit(main())
