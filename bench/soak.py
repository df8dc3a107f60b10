"""``python -m bench.soak --minutes 10 --clients 4``: a long mixed load on the real server.

Starts the server as the README does (``scripts/serve`` on a free loopback port), runs
closed-loop clients for the given minutes with valid uploads in several formats and invalid
ones (random bytes, an empty file, truncated files, a wrong field name, a bad parameter),
each with the status it must get; samples the server's RSS every second; stops the server;
writes ``reports/soak.md``. Exits 1 when any answer was unexpected or RSS grew by 5 % or more
from minute 2 to the end.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from bench.http_load import Outcome, Upload, closed_loop
from bench.machine import machine_lines
from bench.machine_load import busy_processes, training_processes
from bench.process_tree import RssSampler
from bench.repo import REPO_ROOT
from bench.server import SERVE_SCRIPT, Server
from bench.stats import Latency, fmt, median
from bench.track import Track, pick_track

GROWTH_LIMIT = 0.05
EXCERPT_S = 30.0


def _encode(samples: np.ndarray, rate: int, fmt_: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt_, subtype=subtype)
    return buffer.getvalue()


def uploads(track: Track) -> list[Upload]:
    """The request mix: valid audio in several formats and invalid uploads, each with its status."""
    samples, rate = sf.read(str(track.path), dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)[: int(EXCERPT_S * rate)]
    stereo = np.stack([mono, 0.5 * mono], axis=1)
    wav = _encode(stereo, rate, "WAV", "PCM_16")
    flac = _encode(mono, rate, "FLAC", "PCM_16")
    rng = np.random.default_rng(0)
    return [
        Upload("whole track, FLAC", track.data),
        Upload("30 s WAV stereo", wav),
        Upload("30 s FLAC", flac, params={"timeline": "true", "top_k": "3"}),
        Upload("30 s Ogg Vorbis", _encode(mono, rate, "OGG", "VORBIS")),
        Upload("30 s MP3", _encode(mono, rate, "MP3", "MPEG_LAYER_III")),
        Upload("30 s Opus 48 kHz", _encode(soxr.resample(mono, rate, 48_000), 48_000, "OGG", "OPUS")),
        Upload("WAV cut in half", wav[: len(wav) // 2]),
        Upload("random bytes", rng.integers(0, 256, 65_536, dtype=np.uint8).tobytes(), expected=415),
        Upload("empty file", b"", expected=400),
        Upload("FLAC cut in half", flac[: len(flac) // 2], expected=415),
        Upload("text", b"this is not audio\n" * 100, expected=415),
        Upload("wrong field name", flac, form_field="upload", expected=400),
        Upload("top_k=0", flac, params={"top_k": "0"}, expected=422),
    ]


@dataclass(frozen=True)
class SoakResult:
    minutes: float
    clients: int
    settings: dict[str, str]
    outcomes: list[Outcome]
    wall_s: float
    rss: list[tuple[float, int]]
    ready_s: float
    exit_status: int | None

    @property
    def unexpected(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != o.expected]

    def rss_between(self, start_s: float, end_s: float) -> float:
        window = [rss for t, rss in self.rss if start_s <= t < end_s]
        return median(window) if window else float("nan")

    @property
    def growth(self) -> float:
        """Median RSS of the last 30 s against the median of minute 2's first 30 s."""
        start = self.rss_between(120, 150)
        end = self.rss_between(self.wall_s - 30, self.wall_s + 1)
        return end / start - 1


def soak(
    model_dir: Path,
    track: Track,
    *,
    minutes: float,
    clients: int,
    settings: dict[str, str],
    command: Sequence[str] = SERVE_SCRIPT,
    log: Callable[[str], None] = print,
) -> SoakResult:
    mix = uploads(track)
    with Server(model_dir, settings=settings, command=command) as server:
        ready = server.wait_ready()
        log(f"server ready in {ready:.2f} s (pid {server.pid}); {minutes:g} min, {clients} clients")
        with RssSampler(server.pid, interval_s=1.0) as rss:
            outcomes, wall = closed_loop(server.url, mix, clients=clients, duration_s=minutes * 60)
        status = server.stop()
    return SoakResult(minutes, clients, settings, outcomes, wall, rss.samples, ready, status)


def _exit_text(status: int | None) -> str:
    if status is not None and status < 0:
        return f"ended by signal {-status} (SIGTERM, after its graceful shutdown)"
    return f"exited with status {status}"


def render(
    result: SoakResult, track: Track, *, busy: list[str], jobs: list[str], command: Sequence[str]
) -> str:
    by_case: dict[str, list[Outcome]] = {}
    for outcome in result.outcomes:
        by_case.setdefault(outcome.upload, []).append(outcome)
    rows = []
    for name, outcomes in by_case.items():
        statuses: dict[int, int] = {}
        for o in outcomes:
            statuses[o.status] = statuses.get(o.status, 0) + 1
        seen = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        wrong = sum(1 for o in outcomes if o.status != o.expected)
        p50 = Latency.of([o.seconds for o in outcomes]).p50
        rows.append(f"| {name} | {outcomes[0].expected} | {seen} | {wrong} | {fmt(p50 * 1000, 0)} |")
    minutes = int(result.wall_s // 60) + 1
    rss_rows = [
        f"| {m + 1} | {fmt(result.rss_between(m * 60, (m + 1) * 60) / 1e6, 1)} |"
        for m in range(minutes)
        if any(m * 60 <= t < (m + 1) * 60 for t, _ in result.rss)
    ]
    peak = max((r for _, r in result.rss), default=0)
    growth = result.growth
    unexpected = len(result.unexpected)
    verdict = "PASS" if unexpected == 0 and growth < GROWTH_LIMIT else "FAIL"
    settings = ", ".join(f"`{k}={v}`" for k, v in result.settings.items()) or "default settings"
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    return "\n".join(
        [
            "# Soak test",
            "",
            f"`python -m bench.soak --minutes {result.minutes:g} --clients {result.clients}`, run {started}:",
            f"the real server (`{' '.join(command)}`, {settings}) on a loopback port, {result.clients}",
            f"closed-loop clients for {fmt(result.wall_s / 60, 1)} minutes cycling through these uploads;",
            "RSS of the server process (and children) sampled every second with psutil.",
            "",
            *machine_lines(),
            f"- Track: {track.describe()}; the excerpts are its first {EXCERPT_S:.0f} s, re-encoded",
            f"- Other load when starting: {', '.join(busy) or 'none above 10 % of a core'}; "
            f"training jobs: {', '.join(jobs) or 'none'}",
            "",
            "## Result",
            "",
            f"- **{verdict}**: {len(result.outcomes)} requests, **{unexpected} unexpected statuses**;",
            f"  RSS growth from minute 2 to the end **{fmt(growth * 100, 2)} %** "
            f"(target < {GROWTH_LIMIT * 100:.0f} %).",
            f"- Server ready after {fmt(result.ready_s, 2)} s; peak RSS {fmt(peak / 1e6, 1)} MB; "
            f"stopped with SIGTERM at the end: {_exit_text(result.exit_status)}.",
            "",
            "## Requests",
            "",
            "| upload | expected | statuses seen | unexpected | p50 ms |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "## RSS per minute (median of the samples)",
            "",
            "| minute | RSS MB |",
            "|---|---|",
            *rss_rows,
            "",
            "Growth compares the median RSS of the last 30 seconds with that of minute 2's first 30",
            "seconds (after start-up and the first requests have settled the allocators).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports/soak.md")
    parser.add_argument(
        "--set", action="append", default=[], metavar="SONGID_X=VALUE", help="server setting (repeatable)"
    )
    parser.add_argument("--server-command", default=" ".join(SERVE_SCRIPT))
    args = parser.parse_args(argv)
    settings = dict(item.split("=", 1) for item in args.set)  # the shipped defaults otherwise
    track = pick_track()
    busy = busy_processes()
    jobs = [f"songid job (pid {p.pid})" for p in training_processes()]

    def log(message: str) -> None:
        print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)

    command = tuple(args.server_command.split())
    result = soak(
        args.model_dir,
        track,
        minutes=args.minutes,
        clients=args.clients,
        settings=settings,
        command=command,
        log=log,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = render(result, track, busy=busy, jobs=jobs, command=command)
    args.out.write_text(text, encoding="utf-8")
    growth = result.growth * 100
    log(f"{len(result.outcomes)} requests, {len(result.unexpected)} unexpected, RSS growth {growth:.2f} %")
    return 0 if not result.unexpected and result.growth < GROWTH_LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
