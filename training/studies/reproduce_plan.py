"""What ``songid reproduce`` runs for each benchmark: protocols, rows, seeds and the fixed budget,
and where (one :class:`RunSpec` per run, in :class:`training.studies.paths.StudyPaths`).

The budget is paper-style sampling (a few 3 s segments per song redrawn every epoch) and a fixed
number of epochs (patience = epochs, so no early stop; the weights of the epoch with the lowest
validation loss are kept). It is set by what the CNN needs, not by a wall-clock target: with 8
segments per song for 8 epochs (9,000 training segments) the gamemusic artist CNN named none of
its 18 seed-0 test songs right (song top-1 0.00 against the baseline's 0.50; segment AUC-ROC
0.78 against 0.81), so gamemusic now draws 12 segments per song for 12 epochs (about 20,600
segments; 783 to 824 s a run, evaluation included, at 27 to 28 segments/s before BatchNorm
calibration; with it 951 to 959 s a run on average by row at about 24 segments/s, 3.2 h for the
15 runs). Voices runs 42 CNNs
over three seeds (14 per seed: two protocols, augmentation), so each run gets 4 segments per ~60 s
song (of its 20) for 8 epochs, about 5,000 segments; planned at about 3 minutes a run for two
hours, measured 226 to 318 s a run on average by row (16 to 21 segments/s with calibration and
validation), 3.1 h in all. Each report gives the measured time per run.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from training.augment import AugmentConfig
from training.baseline import BaselineConfig
from training.config import TrainConfig
from training.protocols import SONG_SPLIT, UNSEEN_VOICE, Fold
from training.run_folder import RunFolder, write_json_atomic
from training.studies.paths import smoke as smoke_budget

BASELINE_ROW = "baseline-logreg"
AUG_SUFFIX = "+aug"


@dataclass(frozen=True)
class Row:
    """One row of Table 1: the trivial baseline or a CNN, on the base or the augmented cache."""

    name: str
    tasks: tuple[str, ...]
    alpha: float | None = None
    baseline: bool = False
    augmented: bool = False


@dataclass(frozen=True)
class Section:
    """A protocol with its rows, and the tasks its tables report."""

    protocol: str
    rows: tuple[Row, ...]
    report_tasks: tuple[str, ...]


@dataclass(frozen=True)
class BenchmarkPlan:
    name: str
    tasks: tuple[str, str]
    sections: tuple[Section, ...]
    seeds: tuple[int, ...]
    train: TrainConfig
    baseline: BaselineConfig
    augment: AugmentConfig | None = None
    music_from: str | None = None  # benchmark whose audio the "music" augmentation mixes in
    smoke: bool = False
    remarks: tuple[str, ...] = ()  # what a reader of the report must know about the data

    @property
    def cache_name(self) -> str:
        return self.name

    @property
    def augmented_cache_name(self) -> str:
        """Folder of the augmented cache: copies made by another augmentation are never reused."""
        key = self.augment.chain_key() if self.augment else "none"
        return f"{self.cache_name}-aug-{key}"

    def row_config(self, row: Row, *, seed: int) -> TrainConfig:
        """The CNN configuration of ``row``: augmented rows draw fewer segments per song copy, so
        every epoch sees as many training segments as without augmentation."""
        per_song = self.train.segments_per_song
        if row.augmented and self.augment is not None and per_song is not None:
            per_song = max(1, math.ceil(per_song / (1 + self.augment.copies)))
        return replace(
            self.train, tasks=row.tasks, alpha=row.alpha, seed=seed, segments_per_song=per_song, notes={}
        )

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["train"] = self.train.to_json()
        return d


@dataclass(frozen=True)
class RunSpec:
    """One run of the plan: what to train on what, and where it goes."""

    section: Section
    row: Row
    fold: Fold
    seed: int
    cache_dir: Path
    split_file: Path
    run_dir: Path
    plan: BenchmarkPlan
    record: Path  # the finished run's metrics, kept with the report

    @property
    def run(self) -> RunFolder:
        return RunFolder(self.run_dir)

    @property
    def done(self) -> bool:
        return self.record.is_file() or self.run.is_finished

    def metrics(self) -> dict[str, Any]:
        """The finished run's metrics: its record, else its run folder's."""
        if self.record.is_file():
            return dict(json.loads(self.record.read_text(encoding="utf-8")))
        return self.run.read_metrics()

    def keep(self) -> None:
        """Write the record of a run finished in its run folder, if it has none yet."""
        if not self.record.is_file():
            self.record.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.record, self.metrics())


def _rows(first: str, second: str, *, cnn_first: bool = True) -> list[Row]:
    rows = [Row(BASELINE_ROW, (first, second), baseline=True)]
    if cnn_first:
        rows.append(Row(f"cnn-{first}-only", (first,)))
    rows += [
        Row(f"cnn-{second}-only", (second,)),
        Row("multitask-alpha-ratio", (first, second)),
        Row("multitask-alpha-1", (first, second), alpha=1.0),
    ]
    return rows


def _augmented(rows: list[Row], names: set[str]) -> list[Row]:
    return [replace(r, name=r.name + AUG_SUFFIX, augmented=True) for r in rows if r.name in names]


def benchmark_plan(name: str, *, smoke: bool = False) -> BenchmarkPlan:
    """The plan of benchmark ``name`` (``gamemusic`` or ``voices``); ``smoke`` shrinks it to minutes."""
    if name == "gamemusic":
        plan = BenchmarkPlan(
            name=name,
            tasks=("artist", "soundtrack"),
            sections=(Section(SONG_SPLIT, tuple(_rows("artist", "soundtrack")), ("artist", "soundtrack")),),
            seeds=(0, 1, 2),
            # BatchNorm calibrated as TrainConfig's defaults say (256 segments before each
            # validation, 1024 on the kept weights); the runs before calibration existed are in
            # reports/before-calibration/
            train=TrainConfig(epochs=12, patience=12, segments_per_song=12, val_segments_per_song=10),
            baseline=BaselineConfig(segments_per_song=40),
            remarks=(
                "The second task is the soundtrack (the package a track comes from). 24 of the 26 "
                "composers appear in one soundtrack only, so the soundtrack is nearly implied by the "
                "composer: the second task is related to the first, as language is in the paper.",
                "The audio has no singing (language `zxx`): the network can only learn timbre, "
                "instrumentation and production, not a voice.",
                "The runs before BatchNorm calibration (running statistics inflated by dropout) are kept "
                "in [before-calibration/gamemusic.md](before-calibration/gamemusic.md) for comparison.",
            ),
        )
    elif name == "voices":
        unseen = _rows(
            "artist", "language", cnn_first=False
        )  # the test voices are never an artist class seen
        unseen += _augmented(unseen, {BASELINE_ROW, "cnn-language-only", "multitask-alpha-ratio"})
        plan = BenchmarkPlan(
            name=name,
            tasks=("artist", "language"),
            sections=(
                Section(SONG_SPLIT, tuple(_rows("artist", "language")), ("artist", "language")),
                Section(UNSEEN_VOICE, tuple(unseen), ("language",)),
            ),
            seeds=(0, 1, 2),
            # BatchNorm calibrated on 256 segments before each validation, as these runs were
            # trained; the final pass on the same 256 gives the kept epoch's statistics again
            train=TrainConfig(
                epochs=8,
                patience=8,
                segments_per_song=4,
                val_segments_per_song=10,
                bn_epoch_calibration_segments=256,
                bn_calibration_segments=256,
            ),
            baseline=BaselineConfig(segments_per_song=40),
            augment=AugmentConfig(copies=3),  # 4 segments per song = 1 per song copy
            music_from="gamemusic",
            remarks=(
                "Song split: every voice has one language, so language follows the voice and is "
                "trivially solved once the voice is recognised; the protocol is reported for the "
                "paper's layout, not as evidence of language recognition.",
                "Unseen voice: the test songs are those of voices never trained on; the two folds hold "
                "out, for es, fr and it, first the core voice then the other one (both directions), "
                "en and ru are always trained. The artist head of the multitask rows still learns the "
                "training voices; the artist task itself is not reported here (a held-out voice is "
                "never a class the model saw), so no `cnn-artist-only` row is trained.",
                "The en and es core voices are the same speaker (as packaged): in fold0 the held-out "
                "es core voice's speaker is trained, labelled en.",
            ),
        )
    else:
        raise ValueError(f"unknown benchmark {name!r}; choose gamemusic or voices")
    # the plan's own tasks, so its recorded configuration names them; each row narrows them
    plan = replace(
        plan,
        train=replace(plan.train, tasks=plan.tasks),
        baseline=replace(plan.baseline, tasks=plan.tasks),
    )
    if smoke:
        augment = replace(plan.augment, copies=1) if plan.augment else None
        plan = replace(
            plan,
            seeds=(0,),
            train=smoke_budget(plan.train),
            baseline=replace(plan.baseline, segments_per_song=4),
            augment=augment,
            smoke=True,
        )
    return plan
