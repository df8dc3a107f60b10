"""One ``bench.hostile`` session: the server started, the normal client's unloaded latency, then
every attack chosen in turn under :class:`bench.hostile_watch.Watch`, with the checks they share."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import resource
import time
from dataclasses import dataclass

import httpx
import psutil

from bench.hostile_attacks import Attack, Check, Outcome, Target
from bench.hostile_catalogue import ATTACKS
from bench.hostile_connections import connection_checks
from bench.hostile_options import Options
from bench.hostile_report import AttackRun
from bench.hostile_watch import CLIENT_PAUSE_S, Observed, Watch, fresh_client
from bench.http_load import Upload, post
from bench.machine_load import LoadMonitor
from bench.process_tree import tree_fds
from bench.server import Server
from bench.stats import median

WARM_UP_REQUESTS = 3
SETTLE_S = 15.0  # at most, for the connections of an attack to be gone before the next one


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
