"""What every study shares: where it reads and writes, its command-line flags, and the smoke budget.

A study (``songid openset-study``, ``language-study``, ``enrolment-study``, ``reproduce``) reads
benchmarks built by ``songid benchmark`` and their mel caches, trains its runs under ``runs/`` and
keeps one JSON record per finished run under ``records/`` (:mod:`training.studies.records`), from
which its report in ``reports/`` is written.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, replace
from pathlib import Path

from training.config import TrainConfig

DATA = Path("data")  # benchmarks, caches and runs: large, never committed
REPORTS = Path("reports")  # reports and run records: small, committed


@dataclass(frozen=True)
class StudyPaths:
    """Where a study's inputs, runs, records and report live (relative to the working folder)."""

    benchmarks: Path = DATA / "benchmarks"
    caches: Path = DATA / "cache"
    runs: Path = DATA / "runs"
    records: Path = REPORTS / "runs"
    reports: Path = REPORTS

    @classmethod
    def named(cls, study: str) -> StudyPaths:
        """The default folders of study ``study``: its runs and records in folders of its name."""
        return cls(runs=DATA / "runs" / study, records=REPORTS / "runs" / study)


def smoke(config: TrainConfig) -> TrainConfig:
    """The budget of a smoke run: one epoch on two segments a song proves the path, not the method."""
    return replace(config, epochs=1, patience=1, segments_per_song=2, val_segments_per_song=2)


def add_path_args(parser: argparse.ArgumentParser, study: str, *, records: bool = True) -> None:
    """``--benchmarks --caches --runs [--records] --jobs``, defaulting to :meth:`StudyPaths.named`."""
    defaults = StudyPaths.named(study)
    parser.add_argument("--benchmarks", type=Path, default=defaults.benchmarks)
    parser.add_argument("--caches", type=Path, default=defaults.caches)
    parser.add_argument("--runs", type=Path, default=defaults.runs)
    if records:
        parser.add_argument("--records", type=Path, default=defaults.records)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)


def add_smoke_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--smoke", action="store_true", help="one epoch a run: checks the pipeline, not the method"
    )


def paths_from_args(args: argparse.Namespace) -> StudyPaths:
    """The :class:`StudyPaths` of flags added by :func:`add_path_args`."""
    return StudyPaths(args.benchmarks, args.caches, args.runs, args.records)
