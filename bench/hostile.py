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
import dataclasses
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.hostile_attacks import QUICK, Scale
from bench.hostile_catalogue import ATTACK_KEYS
from bench.hostile_options import Options
from bench.hostile_report import Header, render, summary_table
from bench.hostile_session import raise_fd_limit, run_attacks
from bench.http_load import Upload
from bench.machine import machine_lines
from bench.repo import REPO_ROOT
from bench.server import SERVE_SCRIPT
from training.signals import synthetic_track

NORMAL_SONG_S = 10.0


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
