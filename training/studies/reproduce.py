"""``songid reproduce <benchmark>``: the paper's Table 1 on a real-audio benchmark, end to end.

Builds the benchmark if its manifest is missing, prepares its mel cache, runs every
(protocol, fold, seed, row) of the benchmark's plan and writes ``reports/<benchmark>.md``.
Resumable at every level: finished runs (:mod:`training.run_folder`) are never redone, an
interrupted training resumes from its last epoch, and the report is rewritten as runs finish
(at most once a minute) and when the reproduction stops, even by an error or Ctrl-C, so an
interrupted reproduction leaves a report of what finished, marked partial.

Layout under ``<runs>/<benchmark>/``: ``plan.json`` (the exact configuration),
``splits/<protocol>/<run key>[-aug].json`` and ``<protocol>/<row>/<run key>/`` (one run folder).

Every finished run's metrics are also kept beside the report, in
``<reports>/runs/<benchmark>/<protocol>/<row>/<run key>.json`` with the plan: a few KB a run,
meant to be committed. They back the report's tables, and a reproduction continued on another
machine, without the run folders, keeps them instead of training again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from training.augment import augmented_split, build_augmented_cache
from training.baseline import run_baseline
from training.benchmarks.build import build_benchmark
from training.catalog import Song, load_catalog
from training.prepare import prepare, read_index
from training.protocols import Fold, protocol_folds, protocol_split
from training.run_folder import RunFolder
from training.split import read_split, write_split
from training.studies.compare import run_variant
from training.studies.paths import StudyPaths
from training.studies.reproduce_plan import BenchmarkPlan, RunSpec, Section, benchmark_plan
from training.studies.reproduce_report import write_report

log = logging.getLogger(__name__)

PLAN_FILE = "plan.json"
REPORT_INTERVAL_S = 60.0  # the report is rewritten after a finished run at most this often
DEFAULT_PATHS = StudyPaths(runs=StudyPaths.named("reproduce").runs)  # records: reports/runs/<benchmark>


Runner = Callable[[RunSpec], dict[str, Any]]


def default_runner(spec: RunSpec) -> dict[str, Any]:
    """Fit the logistic-regression baseline or train the CNN, then evaluate on the test songs."""
    if spec.row.baseline:
        baseline = replace(spec.plan.baseline, tasks=spec.row.tasks)
        return run_baseline(spec.cache_dir, spec.split_file, spec.run_dir, baseline, seed=spec.seed)
    config = spec.plan.row_config(spec.row, seed=spec.seed)
    config.notes = {"benchmark": spec.plan.name, "protocol": spec.section.protocol, "fold": spec.fold.name}
    return run_variant(spec.cache_dir, spec.split_file, spec.run_dir, config)


def _check_plan(out: Path, plan: BenchmarkPlan) -> None:
    """Record the plan, or refuse to mix runs of another configuration into ``out``."""
    path = out / PLAN_FILE
    current = json.loads(json.dumps(plan.to_json()))  # tuples read back as lists
    if path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        differs = sorted(
            k for k in current.keys() | saved.keys() if k != "seeds" and current.get(k) != saved.get(k)
        )
        if differs:
            raise ValueError(
                f"{out} holds runs of another configuration (differs in {differs}); "
                "choose another --runs folder or remove it"
            )
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2, sort_keys=True), encoding="utf-8")


def ensure_manifest(name: str, paths: StudyPaths, *, jobs: int) -> Path:
    """The benchmark's manifest, built from its packages when missing."""
    manifest = paths.benchmarks / name / "manifest.csv"
    if manifest.is_file():
        return manifest
    log.info("%s: no manifest at %s, building the benchmark", name, manifest)
    return build_benchmark(name, cache_dir=paths.benchmarks, jobs=jobs)


def ensure_cache(name: str, paths: StudyPaths, *, jobs: int) -> Path:
    """The benchmark's mel cache, prepared (resumable: cached songs are only checked)."""
    manifest = ensure_manifest(name, paths, jobs=jobs)
    cache = paths.caches / name
    report = prepare(load_catalog(manifest), cache, jobs=jobs)
    if report.failed:
        log.warning("%s: %d song(s) could not be decoded, see %s", name, len(report.failed), cache)
    return cache


def _split_file(out: Path, section: Section, fold: Fold, seed: int, songs: list[Song]) -> Path:
    path = out / "splits" / section.protocol / f"{fold.run_key(seed)}.json"
    if not path.is_file():
        assignment = protocol_split(section.protocol, songs, fold, seed=seed)
        write_split(
            path,
            assignment,
            seed=seed,
            protocol=section.protocol,
            fold=fold.name,
            test_voices=list(fold.test_voices),
        )
    return path


def _augmentation(
    plan: BenchmarkPlan, paths: StudyPaths, out: Path, cache: Path, seeds: Sequence[int], *, jobs: int
) -> tuple[Path, dict[str, list[str]]]:
    """The augmented cache holding copies of every song that is train in some augmented split."""
    songs = read_index(cache)
    train_ids: set[str] = set()
    for section in plan.sections:
        if not any(r.augmented for r in section.rows):
            continue
        for fold in protocol_folds(section.protocol, songs):
            for seed in sorted(set(plan.seeds) | set(seeds)):
                split = read_split(_split_file(out, section, fold, seed, songs))
                train_ids |= {k for k, v in split.items() if v == "train"}
    music: list[Path] = []
    if plan.music_from:
        music = [s.path for s in load_catalog(ensure_manifest(plan.music_from, paths, jobs=jobs))]
    aug_cache = paths.caches / plan.augmented_cache_name
    assert plan.augment is not None  # a plan with augmented rows has an augment config
    copies = build_augmented_cache(
        cache,
        aug_cache,
        [s for s in songs if s.song_id in train_ids],
        config=plan.augment,
        music=music,
        jobs=jobs,
    )
    return aug_cache, copies


def records_dir(plan: BenchmarkPlan, paths: StudyPaths) -> Path:
    """Where the finished runs' metrics of ``plan`` are kept, beside its report."""
    return paths.records / (f"{plan.name}-smoke" if plan.smoke else plan.name)


def plan_runs(
    plan: BenchmarkPlan,
    paths: StudyPaths,
    cache: Path,
    seeds: Sequence[int],
    *,
    jobs: int = 2,
    with_augmentation: bool = True,
) -> list[RunSpec]:
    """Every run of ``plan`` for ``seeds``, seed-major (all rows of seed 0 first), split files written."""
    out = paths.runs / plan.name
    records = records_dir(plan, paths)
    songs = read_index(cache)
    aug: tuple[Path, dict[str, list[str]]] | None = None
    specs = []
    for seed in seeds:
        for section in plan.sections:
            for fold in protocol_folds(section.protocol, songs):
                split_file = _split_file(out, section, fold, seed, songs)
                for row in section.rows:
                    run_dir = out / section.protocol / row.name / fold.run_key(seed)
                    row_cache, row_split = cache, split_file
                    if row.augmented:
                        aug_split = split_file.with_name(f"{split_file.stem}-aug.json")
                        if with_augmentation and not RunFolder(run_dir).is_finished:
                            if aug is None:
                                aug = _augmentation(plan, paths, out, cache, seeds, jobs=jobs)
                            if not aug_split.is_file():
                                write_split(
                                    aug_split,
                                    augmented_split(read_split(split_file), aug[1]),
                                    seed=seed,
                                    protocol=section.protocol,
                                    fold=fold.name,
                                    augmented=True,
                                )
                        row_cache, row_split = paths.caches / plan.augmented_cache_name, aug_split
                    record = records / section.protocol / row.name / f"{fold.run_key(seed)}.json"
                    specs.append(
                        RunSpec(section, row, fold, seed, row_cache, row_split, run_dir, plan, record)
                    )
    return specs


def reproduce(
    name: str,
    *,
    paths: StudyPaths = DEFAULT_PATHS,
    seeds: Sequence[int] | None = None,
    smoke: bool = False,
    jobs: int = 2,
    runner: Runner = default_runner,
    report_only: bool = False,
) -> Path:
    """Run (or resume) the reproduction of benchmark ``name`` and write its report.

    Args:
        name: ``gamemusic`` or ``voices``.
        paths: data, cache, run and report folders.
        seeds: the seeds to run now (default: the plan's); the report covers every finished run.
        smoke: a minutes-long configuration (1 epoch, 2 segments per song) that proves the path.
        jobs: worker processes for building, mel caching and augmentation.
        runner: trains and evaluates one run (tests pass a fake).
        report_only: write the report from the finished runs, train nothing.

    Returns:
        the report's path.
    """
    plan = benchmark_plan(name, smoke=smoke)
    paths = replace(paths, runs=paths.runs.with_name(paths.runs.name + "-smoke")) if smoke else paths
    out = paths.runs / plan.name
    _check_plan(out, plan)
    _check_plan(records_dir(plan, paths), plan)
    cache = ensure_cache(plan.cache_name, paths, jobs=jobs)
    seeds = list(plan.seeds if seeds is None else seeds)
    report = paths.reports / f"{plan.cache_name}.md"
    all_specs = plan_runs(plan, paths, cache, sorted(set(plan.seeds) | set(seeds)), with_augmentation=False)
    try:
        last_report = time.monotonic()
        for spec in [] if report_only else plan_runs(plan, paths, cache, seeds, jobs=jobs):
            if spec.done:
                log.info("kept finished run %s", spec.run_dir)
                spec.keep()
                continue
            log.info("run %s", spec.run_dir)
            runner(spec)
            spec.keep()
            if time.monotonic() - last_report > REPORT_INTERVAL_S:
                write_report(plan, all_specs, report, paths=paths)
                last_report = time.monotonic()
    finally:  # also when interrupted: the report shows what finished
        write_report(plan, all_specs, report, paths=paths)
    return report
