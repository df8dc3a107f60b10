"""Benchmark "composers": gamemusic's soundtracks plus every further Debian package found whose
credits name a composer per track (:mod:`training.benchmarks.composer_packages`).

Labels, selection rules, conversion and files written are gamemusic's
(:func:`training.benchmarks.gamemusic.build_soundtracks`); only the package table is larger.
The packages of :data:`~training.benchmarks.composer_packages.HELD_OUT` are refused by name.
:func:`package_summary` turns the ``candidates.csv`` beside the manifest into a markdown
table: per package, what was taken and why the rest was not.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from training.benchmarks import gamemusic
from training.benchmarks.composer_packages import COMPOSER_SOUNDTRACKS, HELD_OUT, LEFT_OUT
from training.benchmarks.soundtracks import Collector

NAME: Final = "composers"
SUMMARY_FILE: Final = "packages.md"


class HeldOutPackageError(ValueError):
    """A package kept for an independent check was asked for."""


def refuse_held_out(packages: Iterable[str]) -> None:
    """Raise :class:`HeldOutPackageError` naming every package of ``packages`` that is held out."""
    held = sorted(set(packages) & HELD_OUT)
    if held:
        raise HeldOutPackageError(f"held-out packages are never used by this benchmark: {held}")


def build(
    *,
    cache_dir: Path,
    jobs: int = 2,
    soundtracks: Mapping[str, Collector] = COMPOSER_SOUNDTRACKS,
    min_duration_s: float = gamemusic.MIN_DURATION_S,
    min_tracks: int = gamemusic.MIN_TRACKS,
) -> Path:
    """Download, label, convert and write ``<cache>/composers/manifest.csv`` (and ``packages.md``,
    the per-package summary); return the manifest's path.

    Raises:
        HeldOutPackageError: ``soundtracks`` names a held-out package (checked before any download).
    """
    refuse_held_out(soundtracks)
    manifest = gamemusic.build_soundtracks(
        soundtracks,
        name=NAME,
        with_vocals=gamemusic.WITH_VOCALS,
        cache_dir=cache_dir,
        jobs=jobs,
        min_duration_s=min_duration_s,
        min_tracks=min_tracks,
    )
    with (manifest.parent / "candidates.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    (manifest.parent / SUMMARY_FILE).write_text(
        package_summary(rows, packages=list(soundtracks), left_out=LEFT_OUT), encoding="utf-8"
    )
    return manifest


def package_summary(
    rows: Iterable[Mapping[str, str]], *, packages: Iterable[str], left_out: Mapping[str, str]
) -> str:
    """Markdown: one line per package read (tracks taken, hours taken, composers, counts of the
    reasons the other candidates were left out), then the packages looked at and left out.

    ``rows`` are ``candidates.csv`` rows (``soundtrack``, ``artist``, ``status``, ``duration_s``).
    """
    by_package: dict[str, list[Mapping[str, str]]] = defaultdict(list)
    for row in rows:
        by_package[row["soundtrack"]].append(row)
    lines = [
        "| package | candidates | taken | hours taken | composers taken | left out (reason: tracks) |",
        "|---|---:|---:|---:|---|---|",
    ]
    total_taken, total_s, composers = 0, 0.0, set()
    for package in packages:
        found = by_package.get(package, [])
        taken = [r for r in found if r["status"] == gamemusic.OK]
        seconds = sum(float(r["duration_s"]) for r in taken)
        names = sorted({r["artist"] for r in taken})
        reasons = Counter(r["status"] for r in found if r["status"] != gamemusic.OK)
        why = ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "-"
        if not found:
            why = "no candidate track found"
        lines.append(
            f"| {package} | {len(found)} | {len(taken)} | {seconds / 3600:.2f} | "
            f"{', '.join(names) or '-'} | {why} |"
        )
        total_taken += len(taken)
        total_s += seconds
        composers.update(names)
    lines.append(f"| **all** | | {total_taken} | {total_s / 3600:.2f} | {len(composers)} composers | |")
    lines += ["", "| package looked at, not read | why |", "|---|---|"]
    lines += [f"| {package} | {why} |" for package, why in sorted(left_out.items())]
    return "\n".join(lines) + "\n"
