"""``songid openset-study``: the open-set protocol, end to end and resumable.

Leave-artists-out: each fold trains on the songs of some artists (split 80/10/10 as the paper
does) and treats every song of the others as unknown. gamemusic: the composers, ranked by song
count, are dealt into ``folds`` groups; fold ``k`` holds out group ``k``. voices: the held-out
voices of the unseen-voice protocol (:func:`training.protocols.unseen_voice_folds`).

Two training recipes are compared on the same splits: the paper's, and the paper's plus outlier
exposure on music by people outside every fold (gamemusic's ``outsiders.csv``, used for training
only; the unknown test songs are always the held-out artists'). Every run is exported as the
service would load it, and every score of :mod:`training.openset` is measured on it, with its
threshold set on the run's validation songs. Each run also answers the no-evidence corpus
(:mod:`training.signals`) with and without the service's evidence gate.

A finished run leaves a record under ``reports/runs/openset/``; a rerun skips it, and an
interrupted training resumes from its last epoch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from training.catalog import Song, load_catalog
from training.config import TrainConfig
from training.prepare import prepare, read_index
from training.protocols import unseen_voice_folds
from training.split import EXPOSURE, split_songs
from training.studies.paths import StudyPaths
from training.studies.paths import smoke as smoke_budget
from training.studies.records import RecordedRun, record_missing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    name: str
    outlier_exposure: float  # TrainConfig.outlier_exposure; 0 = the paper's recipe


PAPER = Recipe("paper", 0.0)
EXPOSED = Recipe("outlier-exposure", 0.5)  # Hendrycks et al.'s weight


@dataclass(frozen=True)
class StudyBenchmark:
    name: str
    recipes: tuple[Recipe, ...]
    train: TrainConfig
    exposure_manifest: str | None  # under the benchmark folder: music for outlier exposure


# The budget is what 12 runs on 2 CPU cores allow in about an hour and a half: fewer epochs than
# the Table 1 runs (12 x 12 segments a song), as many segments a song; reports give the measured
# time. Two folds: half the composers out each time, so every composer is unknown once.
GAMEMUSIC = StudyBenchmark(
    "gamemusic",
    (PAPER, EXPOSED),
    TrainConfig(
        tasks=("artist", "soundtrack"), epochs=10, patience=10, segments_per_song=12, val_segments_per_song=10
    ),
    "outsiders.csv",
)
# voices' budget is its Table 1 runs' (4 of ~20 segments a song, 8 epochs); no outside speech
# exists to expose, so the paper's recipe only
VOICES = StudyBenchmark(
    "voices",
    (PAPER,),
    TrainConfig(
        tasks=("artist", "language"),
        epochs=8,
        patience=8,
        segments_per_song=4,
        val_segments_per_song=10,
        bn_epoch_calibration_segments=256,
        bn_calibration_segments=256,
    ),
    None,
)
BENCHMARKS = {b.name: b for b in (GAMEMUSIC, VOICES)}
GAMEMUSIC_FOLDS = 2
PATHS = StudyPaths.named("openset")


@dataclass(frozen=True)
class StudyRun(RecordedRun):
    benchmark: StudyBenchmark
    fold: int
    held_out: tuple[str, ...]  # artists whose songs are unknown
    seed: int
    recipe: Recipe
    paths: StudyPaths

    @property
    def key(self) -> str:
        return f"{self.benchmark.name}/{self.recipe.name}/fold{self.fold}-seed{self.seed}"

    @property
    def cache_dir(self) -> Path:
        return self.paths.caches / self.benchmark.name

    def config(self, *, smoke: bool) -> TrainConfig:
        config = replace(
            self.benchmark.train,
            seed=self.seed,
            outlier_exposure=self.recipe.outlier_exposure,
            notes={"study": "openset", "run": self.key, "held_out": list(self.held_out)},
        )
        return smoke_budget(config) if smoke else config


def gamemusic_folds(songs: list[Song], n_folds: int = GAMEMUSIC_FOLDS) -> list[tuple[str, ...]]:
    """Composers ranked by song count (then name), dealt into ``n_folds`` held-out groups."""
    counts: dict[str, int] = {}
    for s in songs:
        counts[s.labels["artist"]] = counts.get(s.labels["artist"], 0) + 1
    ranked = sorted(counts, key=lambda a: (-counts[a], a))
    return [tuple(sorted(ranked[k::n_folds])) for k in range(n_folds)]


def held_out_groups(benchmark: StudyBenchmark, songs: list[Song]) -> list[tuple[str, ...]]:
    if benchmark.name == "voices":
        return [fold.test_voices for fold in unseen_voice_folds(songs, voice="artist")]
    return gamemusic_folds(songs)


def study_split(
    songs: list[Song], held_out: tuple[str, ...], exposure: list[Song], *, seed: int
) -> dict[str, str]:
    """``{song_id: role}``: the known artists' songs split 80/10/10, the exposure songs; the
    held-out artists' songs are in no role (the unknown test songs)."""
    known = [s for s in songs if s.labels["artist"] not in held_out]
    exposed = dict.fromkeys((s.song_id for s in exposure), EXPOSURE)
    return {**split_songs(known, seed=seed, stratify="artist"), **exposed}


def ensure_cache(benchmark: StudyBenchmark, paths: StudyPaths, *, jobs: int) -> tuple[list[Song], list[Song]]:
    """The benchmark's songs and its exposure songs, their mels cached (resumable)."""
    folder = paths.benchmarks / benchmark.name
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: build it first with `songid benchmark {benchmark.name}`")
    sources = [manifest]
    if benchmark.exposure_manifest:
        sources.append(folder / benchmark.exposure_manifest)
    catalog = load_catalog(*sources)
    cache = paths.caches / benchmark.name
    prepare(catalog, cache, jobs=jobs)
    cached = {s.song_id: s for s in read_index(cache)}
    main_ids = {s.song_id for s in load_catalog(manifest)}
    songs = [cached[i] for i in cached if i in main_ids]
    exposure = [cached[i] for i in cached if i not in main_ids]
    return songs, exposure


def plan_runs(
    benchmarks: list[str], seeds: list[int], paths: StudyPaths, *, jobs: int
) -> tuple[list[StudyRun], dict[str, tuple[list[Song], list[Song]]]]:
    """Every run, seed-major (so a partial study already covers every fold and recipe)."""
    data = {name: ensure_cache(BENCHMARKS[name], paths, jobs=jobs) for name in benchmarks}
    runs = []
    for seed in seeds:
        for name in benchmarks:
            benchmark = BENCHMARKS[name]
            for fold, held_out in enumerate(held_out_groups(benchmark, data[name][0])):
                runs += [StudyRun(benchmark, fold, held_out, seed, r, paths) for r in benchmark.recipes]
    return runs, data


Runner = Callable[..., dict[str, Any]]  # (run, songs, exposure songs, *, smoke) -> the run's record


def study(
    benchmarks: list[str],
    seeds: list[int],
    *,
    paths: StudyPaths = PATHS,
    jobs: int = 2,
    smoke: bool = False,
    on_record: Callable[[], None] = lambda: None,
    runner: Runner,
) -> list[StudyRun]:
    """Run every missing run of the study with ``runner`` (:func:`training.studies.openset_run.measure_run`,
    which imports TensorFlow); ``on_record`` after each (e.g. rewrite the report)."""
    runs, data = plan_runs(benchmarks, seeds, paths, jobs=jobs)

    def measure(run: StudyRun) -> dict[str, Any]:
        log.info("%s: held out %s", run.key, ", ".join(run.held_out))
        songs, exposure = data[run.benchmark.name]
        record = runner(run, songs, exposure if run.recipe.outlier_exposure else [], smoke=smoke)
        return record | {
            "benchmark": run.benchmark.name,
            "recipe": asdict(run.recipe),
            "fold": run.fold,
            "seed": run.seed,
            "held_out": list(run.held_out),
            "smoke": smoke,
        }

    record_missing(runs, measure, on_record=on_record)
    return runs


def mean_range(values: list[float]) -> tuple[float, float, float]:
    """Mean, minimum and maximum, NaNs left out (NaN when none remain)."""
    kept = [v for v in values if v == v]
    if not kept:
        return float("nan"), float("nan"), float("nan")
    return float(np.mean(kept)), float(min(kept)), float(max(kept))
