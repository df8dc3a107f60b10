"""``python -m bench.expert``: what the language expert costs the service, with it and without, in one run.

On this machine, one process: cold start (load and warm-up) and RSS of a replica's model with
the expert and without it (a copy of the model folder without the expert's files: the same
network, the expert ``absent``); the pipeline's time per song (p50, p95 over ``--repeats``) for a
song with vocals and an instrumental one, each with and without the expert; and ``songid-tag``'s
songs per second over a folder of songs, with and without. Every figure is measured here, now;
the report names the machine and compares against the targets of the language expert.

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

import psutil

from bench.machine import machine_lines
from frontend.artifact import resolve_model_dir
from service.limits import DEFAULT_LIMITS
from service.model import SongModel
from service.pipeline import Pipeline

TARGETS = {"vocal_p50_s": 1.0, "instrumental_ratio": 1.10, "cold_start_s": 5.0, "rss_mb": 700.0}


def _without_expert(model_dir: Path, into: Path) -> Path:
    """A copy of the model folder without the expert's files (the network's folder, expert absent)."""
    folder = resolve_model_dir(model_dir)
    copy = into / folder.name
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("expert"))
    return into


def _load(model_dir: Path) -> tuple[Pipeline, float, float]:
    """A warmed pipeline as a replica loads it; its cold start (s) and the process's RSS after (MB)."""
    started = time.perf_counter()
    model = SongModel(model_dir, provider="cpu")
    model.load()
    pipeline = Pipeline(model, DEFAULT_LIMITS)
    pipeline.warm_up()
    return pipeline, time.perf_counter() - started, psutil.Process().memory_info().rss / 2**20


def _times(pipeline: Pipeline, song: Path, repeats: int) -> dict[str, float]:
    seconds = []
    for _ in range(repeats):
        with song.open("rb") as f:
            started = time.perf_counter()
            pipeline.analyse(f)
            seconds.append(time.perf_counter() - started)
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
    """Every figure of the report, with and without the expert."""
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        plain = _without_expert(model_dir, Path(tmp))
        for name, folder in (("network", plain), ("expert", model_dir)):
            pipeline, cold, rss = _load(folder)
            if name == "expert" and pipeline.model.language.state != "loaded":
                raise SystemExit(
                    f"{model_dir}: the language expert is {pipeline.model.language.state}; fetch it first"
                )
            figures[name] = {
                "cold_start_s": cold,
                "rss_mb": rss,
                "vocal": _times(pipeline, vocal, repeats),
                "instrumental": _times(pipeline, instrumental, repeats),
                "tag_songs_per_s": _tag_rate(folder, tag_folder, Path(tmp)),
            }
            figures[name]["rss_after_mb"] = psutil.Process().memory_info().rss / 2**20
    return figures


def render(figures: dict[str, Any], *, vocal: Path, instrumental: Path, tag_folder: Path) -> str:
    net, exp = figures["network"], figures["expert"]
    ratio = exp["instrumental"]["p50_s"] / net["instrumental"]["p50_s"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    rows = [
        ("cold start (load + warm-up), s", "cold_start_s"),
        ("RSS after load, MB", "rss_mb"),
        ("RSS after the songs, MB", "rss_after_mb"),
        ("songid-tag, songs/s", "tag_songs_per_s"),
    ]
    lines = [
        "# The language expert's cost",
        "",
        "Written by `python -m bench.expert`. One process; the network-only row is the same model folder",
        "without the expert's files (the service then answers language from the network). Machine:",
        "",
        *machine_lines(),
        "",
        f"Song with vocals: `{vocal.name}`; instrumental: `{instrumental.name}`; songid-tag over the",
        f"{len(list(tag_folder.iterdir()))} files of `{tag_folder.name}/`.",
        "",
        "| figure | network only | with the expert |",
        "|---|---|---|",
        *[
            f"| {song} song, pipeline p50 / p95, s | {net[song]['p50_s']:.3f} / {net[song]['p95_s']:.3f} "
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
