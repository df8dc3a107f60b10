"""The artist gallery at scale: enrolling, loading and matching 100,000 artists.

    python -m bench.gallery                      # 100,000 synthetic artists, the bundled model
    python -m bench.gallery --artists 10000 --runs 5

Synthetic enrolled artists (random embeddings around the trained artists' centre, written through
the store as the API writes them) in a fresh SQLite file; then, in this one process: the time to
open the store and build the index (what a replica does at start-up), and ``Pipeline.analyse`` of
a ~3-minute track with no gallery against the full gallery, the two interleaved run by run so
that both see the same machine load. Writes ``reports/perf-gallery.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import psutil

from bench.machine import machine_lines
from bench.machine_load import busy_processes
from bench.repo import REPO_ROOT
from bench.track import pick_track
from frontend.artifact import load_artifact
from service.gallery.gallery import Gallery
from service.gallery.records import EnrolledSong
from service.gallery.store import GalleryStore, open_store, sqlite_url
from service.limits import DEFAULT_LIMITS
from service.model import SongModel
from service.pipeline import Pipeline

MODEL = REPO_ROOT / "models" / "songid-multitask"


def fill(store: GalleryStore, model: str, centre: np.ndarray, n: int, *, seed: int = 0) -> float:
    """Enrol ``n`` synthetic artists of one song each; returns the seconds it took."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for k in range(n):
        embedding = (centre + rng.standard_normal(centre.shape[0])).astype(np.float32)
        store.create(f"synthetic-{k:06d}", f"Synthetic {k}", model, [EnrolledSong(embedding, f"{k:064x}")])
    return time.perf_counter() - started


def analyse_seconds(pipeline: Pipeline, track: Path) -> float:
    started = time.perf_counter()
    with track.open("rb") as f:
        pipeline.analyse(f)
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artists", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9, help="analyses of each kind (interleaved)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports" / "perf-gallery.md")
    args = parser.parse_args(argv)

    artifact = load_artifact(MODEL)
    if artifact.centroids is None:
        raise SystemExit(f"{MODEL}: no centroids.json")
    track = pick_track(target_s=180.0)
    model = SongModel(MODEL, provider="cpu")
    model.load()
    plain = Pipeline(model, DEFAULT_LIMITS)
    with tempfile.TemporaryDirectory(prefix="songid-gallery-") as tmp:
        path = Path(tmp) / "gallery.sqlite"
        store = open_store(sqlite_url(path))
        key = f"{artifact.name}:{artifact.version}"
        fill_s = fill(store, key, artifact.centroids.centre, args.artists)
        store.close()
        rss_before = psutil.Process().memory_info().rss
        started = time.perf_counter()
        gallery = Gallery(open_store(sqlite_url(path)), artifact, poll_s=3600.0)
        load_s = time.perf_counter() - started
        rss_after = psutil.Process().memory_info().rss
        with_gallery = Pipeline(model, DEFAULT_LIMITS, gallery=gallery)
        for pipeline in (plain, with_gallery):
            analyse_seconds(pipeline, track.path)  # first-call costs out of the figures
        match_s = []
        index = gallery.index()
        embedding = artifact.centroids.centre + 0.1
        for _ in range(50):
            t0 = time.perf_counter()
            index.match(embedding, top_k=100)
            match_s.append(time.perf_counter() - t0)
        plain_s, gallery_s = [], []
        for _ in range(args.runs):
            plain_s.append(analyse_seconds(plain, track.path))
            gallery_s.append(analyse_seconds(with_gallery, track.path))
        db_mib = path.stat().st_size / 2**20
        gallery.store.close()
    busy = busy_processes()
    p50_plain, p50_gallery = statistics.median(plain_s), statistics.median(gallery_s)
    lines = [
        "# The artist gallery at scale",
        "",
        f"`python -m bench.gallery --artists {args.artists} --runs {args.runs}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; the bundled model, SQLite store.",
        "",
        *machine_lines(),
        f"- Other busy processes at the end: {', '.join(busy) if busy else 'none'}",
        f"- Track: {track.describe()}",
        "",
        "| measure | value |",
        "|---|---|",
        f"| enrolled artists | {args.artists:,} |",
        f"| enrolling them through the store (one transaction each) | {fill_s:.1f} s "
        f"({args.artists / fill_s:,.0f}/s) |",
        f"| SQLite file | {db_mib:.0f} MiB |",
        f"| start-up: open the store and build the index | {load_s:.2f} s |",
        f"| index memory (RSS growth while loading) | {(rss_after - rss_before) / 2**20:.0f} MiB |",
        f"| one match against every artist (top 100), median of 50 | "
        f"{1000 * statistics.median(match_s):.1f} ms |",
        f"| `/predict` pipeline p50, no gallery ({args.runs} runs) | {p50_plain:.3f} s |",
        f"| `/predict` pipeline p50, {args.artists:,} enrolled ({args.runs} runs, interleaved) | "
        f"{p50_gallery:.3f} s |",
        f"| ratio | {p50_gallery / p50_plain:.3f} (target <= 1.10) |",
        "",
        "Brute force (one float32 matrix-vector product over all artists) is what this measures; "
        "no vector library was needed at this size.",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
