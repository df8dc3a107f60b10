"""``python -m bench.expert``: what the language expert costs the service, with it and without, in one run.

On this machine, two real services side by side, one with the expert and one without it (a copy
of the model folder without the expert's files: the same network, the expert ``absent``): each
one's cold start (process start to ``/readyz`` 200) and RSS, and ``POST /predict``'s time (p50,
p95 over ``--repeats``, the two services asked in turn) for a song with vocals and an
instrumental one; then ``songid-tag``'s songs per second over a folder of songs, with and without.
Every figure is measured here, now; the report names the machine and compares against the
targets of the language expert.

    python -m bench.expert --vocal SONG --instrumental SONG --tag-folder DIR --out reports/expert-perf.md
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.machine import machine_lines
from bench.server import Server
from frontend.artifact import resolve_model_dir

SERVE = (sys.executable, "-m", "service")  # the service itself, without the install step of scripts/serve

TARGETS = {"vocal_p50_s": 1.0, "instrumental_ratio": 1.10, "cold_start_s": 5.0, "rss_mb": 700.0}


def _without_expert(model_dir: Path, into: Path) -> Path:
    """A copy of the model folder without the expert's files (the network's folder, expert absent)."""
    folder = resolve_model_dir(model_dir)
    copy = into / folder.name
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("expert"))
    return into


def _post(client: httpx.Client, url: str, song: Path) -> float:
    """Seconds for one ``POST /predict`` of ``song``."""
    started = time.perf_counter()
    answer = client.post(f"{url}/predict", files={"file": (song.name, song.read_bytes())})
    answer.raise_for_status()
    return time.perf_counter() - started


def _summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"p50_s": statistics.median(ordered), "p95_s": ordered[int(0.95 * (len(ordered) - 1))]}


def _tag_rate(model_dir: Path, folder: Path, work: Path) -> float:
    """songid-tag's songs per second over ``folder`` (its default engine and workers)."""
    out = work / f"tags-{time.monotonic_ns()}.jsonl"
    command = [
        sys.executable,
        "-m",
        "service.batch.cli",
        str(folder),
        "-o",
        str(out),
        "--model",
        str(model_dir),
    ]
    started = time.perf_counter()
    subprocess.run([*command, "--no-progress"], check=True, capture_output=True)
    rows = len(out.read_text(encoding="utf-8").splitlines())
    return rows / (time.perf_counter() - started)


def measure(
    model_dir: Path, vocal: Path, instrumental: Path, tag_folder: Path, *, repeats: int
) -> dict[str, Any]:
    """Every figure of the report: two servers (network only, with the expert), answered in turn."""
    with tempfile.TemporaryDirectory() as tmp:
        folders = {"network": _without_expert(model_dir, Path(tmp)), "expert": model_dir}
        servers = {name: Server(folder, command=SERVE) for name, folder in folders.items()}
        figures: dict[str, Any] = {name: {} for name in servers}
        try:
            for name, server in servers.items():  # one at a time: each cold start on a quiet machine
                server.start()
                figures[name]["cold_start_s"] = server.wait_ready()
                figures[name]["rss_mb"] = server.rss() / 2**20
            with httpx.Client(timeout=120.0) as client:
                ready = client.get(f"{servers['expert'].url}/readyz").json()
                if ready.get("language_expert", {}).get("state") != "loaded":
                    raise SystemExit(f"{model_dir}: the language expert is not in place; fetch it first")
                times: dict[tuple[str, str], list[float]] = {}
                for _ in range(repeats + 1):  # the first round warms both up and is not counted
                    for song_name, song in (("vocal", vocal), ("instrumental", instrumental)):
                        for name, server in servers.items():  # in turn: drift hits both alike
                            times.setdefault((name, song_name), []).append(_post(client, server.url, song))
            for (name, song_name), seconds in times.items():
                figures[name][song_name] = _summary(seconds[1:])
            for name, server in servers.items():
                figures[name]["rss_after_mb"] = server.rss() / 2**20
        finally:
            for server in servers.values():
                server.stop()
        for name, folder in folders.items():
            figures[name]["tag_songs_per_s"] = _tag_rate(folder, tag_folder, Path(tmp))
    return figures


def render(figures: dict[str, Any], *, vocal: Path, instrumental: Path, tag_folder: Path) -> str:
    net, exp = figures["network"], figures["expert"]
    ratio = exp["instrumental"]["p50_s"] / net["instrumental"]["p50_s"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    rows = [
        ("cold start (process start to /readyz 200), s", "cold_start_s"),
        ("RSS when ready, MB", "rss_mb"),
        ("RSS after the songs, MB", "rss_after_mb"),
        ("songid-tag, songs/s", "tag_songs_per_s"),
    ]
    lines = [
        "# The language expert's cost",
        "",
        "Written by `python -m bench.expert`. Two services side by side; the network-only one serves the",
        "same model folder without the expert's files (it then answers language from the network). Machine:",
        "",
        *machine_lines(),
        "",
        f"Song with vocals: `{vocal.name}`; instrumental: `{instrumental.name}`; songid-tag over the",
        f"{len(list(tag_folder.iterdir()))} files of `{tag_folder.name}/`.",
        "",
        "| figure | network only | with the expert |",
        "|---|---|---|",
        *[
            f"| {song} song, POST /predict p50 / p95, s "
            f"| {net[song]['p50_s']:.3f} / {net[song]['p95_s']:.3f} "
            f"| {exp[song]['p50_s']:.3f} / {exp[song]['p95_s']:.3f} |"
            for song in ("vocal", "instrumental")
        ],
        *[f"| {title} | {net[key]:.2f} | {exp[key]:.2f} |" for title, key in rows],
        "",
        "Targets (with the expert, 2 CPU cores):",
        f"- song with vocals p50 <= {TARGETS['vocal_p50_s']} s: {exp['vocal']['p50_s']:.3f} s "
        f"({verdict(exp['vocal']['p50_s'] <= TARGETS['vocal_p50_s'])})",
        f"- instrumental song within 10 % of the network alone: x{ratio:.2f} "
        f"({verdict(ratio <= TARGETS['instrumental_ratio'])})",
        f"- cold start <= {TARGETS['cold_start_s']} s: {exp['cold_start_s']:.2f} s "
        f"({verdict(exp['cold_start_s'] <= TARGETS['cold_start_s'])})",
        f"- RSS of one replica <= {TARGETS['rss_mb']:.0f} MB: {exp['rss_after_mb']:.0f} MB "
        f"({verdict(exp['rss_after_mb'] <= TARGETS['rss_mb'])})",
        "",
        "```json",
        json.dumps(figures, indent=1),
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.expert", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", type=Path, default=Path("models"), help="a model folder whose expert is in place"
    )
    parser.add_argument("--vocal", type=Path, required=True, help="a song with vocals (about 3 minutes)")
    parser.add_argument("--instrumental", type=Path, required=True, help="an instrumental song")
    parser.add_argument("--tag-folder", type=Path, required=True, help="a folder of songs for songid-tag")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("reports/expert-perf.md"))
    args = parser.parse_args(argv)
    figures = measure(args.model, args.vocal, args.instrumental, args.tag_folder, repeats=args.repeats)
    args.out.write_text(
        render(figures, vocal=args.vocal, instrumental=args.instrumental, tag_folder=args.tag_folder),
        encoding="utf-8",
    )
    print(args.out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
