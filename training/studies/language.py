"""The language study: which songs each fold trains on and tests, and the resumable loop.

Songs (one mel cache, ``<caches>/language``, from the benchmarks' manifests):

- **speech** (voices, tuxpaint, fillets, gcompris): a language and a ``voice`` (the speaker);
- **instrumental** (gamemusic, ``zxx``) but the Frets on Fire muldjord mixes, which have vocals;
- **singing**: the D-PLACE excerpts (ISO 639-1 where the language is known, else a glottocode)
  and the muldjord mixes.

The label set is ``zxx`` and every language with at least :data:`MIN_LANGUAGE_SONGS` speech
songs; speech in other languages is left out. Fold ``k`` holds out the ``k``-th attributed voice
(sorted by name) of every label-set language with two or more of them (the unseen-speaker test,
(a)); GCompris folders without a named reader (``*-unattributed``) are never held out, since
they may be the held-out reader under another name. The other voices train (90/10 train/val).
Instrumental tracks are split 80/10/10 by track, seeded; the test tracks are (b)'s instrumental
side. Half of the D-PLACE societies are test (b; their excerpts in label-set languages also c);
the other half's excerpts in label-set languages train and validate (real singing to learn
from), and with a recipe's outlier exposure their excerpts in other languages are ``exposure``
songs of the language head. The muldjord mixes never train: (b) tests them.

This module plans and records; :mod:`training.studies.language_run` trains and measures
(TensorFlow). Speech copies mixed over the fold's training music are added to the training songs
(:mod:`training.augment`), never to validation or test songs.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from training.augment import AugmentConfig
from training.benchmarks.gamemusic import WITH_VOCALS
from training.catalog import Song, load_catalog
from training.config import TrainConfig
from training.prepare import prepare, read_index
from training.protocols import voices_by_language
from training.split import EXPOSURE, split_songs, split_train_val
from training.studies.paths import StudyPaths
from training.studies.paths import smoke as smoke_budget
from training.studies.records import RecordedRun, record_missing

log = logging.getLogger(__name__)

SPEECH: Final = ("voices", "tuxpaint", "fillets", "gcompris")
INSTRUMENTAL: Final = "gamemusic"
SINGING: Final = "dplace"
NO_VOCALS: Final = "zxx"
MIN_LANGUAGE_SONGS: Final = 5  # ~5 minutes of speech: less is no language to learn
UNATTRIBUTED: Final = "-unattributed"
PATHS: Final = StudyPaths.named("language")
CACHE: Final = "language"  # the mel cache of every benchmark the study reads, under the caches folder
# every speech song once more, over an excerpt of a training track, 5 dB under to 10 dB over it
# (vocals in a mix sit around 0-10 dB above the accompaniment); nothing else
MIX: Final = AugmentConfig(
    copies=1, p_music=1.0, p_noise=0.0, p_band=0.0, p_codec=0.0, p_gain=0.0, music_snr_db=(-5.0, 10.0)
)


@dataclass(frozen=True)
class Recipe:
    """What a run trains on beyond the labelled songs."""

    name: str
    mix: AugmentConfig  # the copies of every training speech song
    exposure: float  # weight of singing in other languages as language outliers; 0: not trained
    excludes: tuple[str, ...] = ()  # labels the outliers' uniform target leaves out


MIXED: Final = Recipe("mixed", MIX, 0.0)
# half of the copies also sung-like (speed and vibrato), and singing in languages outside the
# label set trains the language head towards uniform over every label
SUNG: Final = Recipe("sung", replace(MIX, p_sing=0.5), 0.5)
# the same, uniform over the languages only: someone sings, in no language the model knows, so
# not zxx either (measured after `sung` answered more real singing zxx than `mixed`)
VOICED: Final = Recipe("voiced", SUNG.mix, 0.5, (NO_VOCALS,))
RECIPES: Final = {r.name: r for r in (MIXED, SUNG, VOICED)}
# the budget of the voices Table 1 runs (few segments a song, few epochs), on 2 CPU cores
CONFIG: Final = TrainConfig(
    tasks=("artist", "language"),
    epochs=6,
    patience=3,
    segments_per_song=4,
    val_segments_per_song=4,
    bn_epoch_calibration_segments=256,
    bn_calibration_segments=512,
)


@dataclass(frozen=True)
class StudySongs:
    """The cached songs of the study, by kind (module docstring)."""

    speech: list[Song]  # label-set languages only
    instrumental: list[Song]
    singing: list[Song]  # D-PLACE excerpts and the muldjord mixes
    labels: list[str]  # the language label set, zxx included
    outside: list[Song] = field(default_factory=list)  # speech in languages outside the label set

    def excerpts(self) -> list[Song]:
        """The D-PLACE excerpts (the muldjord mixes have no society)."""
        return [s for s in self.singing if s.labels.get("society")]

    def known_singing(self) -> list[Song]:
        """The D-PLACE excerpts in a label-set language."""
        return [s for s in self.excerpts() if s.labels["language"] in self.labels]


def source_of(song: Song) -> str:
    """The benchmark a cached song comes from (the folder under the benchmarks root)."""
    parts = song.path.parts
    return parts[parts.index("audio") - 1] if "audio" in parts else song.path.parent.name


def load_songs(benchmarks: Path, cache: Path, *, jobs: int) -> StudySongs:
    """Cache every benchmark's mels in ``cache`` (resumable) and sort the songs into speech, music
    and singing."""
    manifests = [benchmarks / name / "manifest.csv" for name in (*SPEECH, INSTRUMENTAL, SINGING)]
    missing = [m for m in manifests if not m.is_file()]
    if missing:
        names = " ".join(m.parent.name for m in missing)
        raise FileNotFoundError(f"{missing[0]}: build the benchmarks first: `songid benchmark {names}`")
    prepare(load_catalog(*manifests), cache, jobs=jobs)
    songs = read_index(cache)
    speech = [s for s in songs if source_of(s) in SPEECH]
    music = [s for s in songs if source_of(s) == INSTRUMENTAL]
    counts = Counter(s.labels["language"] for s in speech)
    labels = sorted({lang for lang, n in counts.items() if n >= MIN_LANGUAGE_SONGS} | {NO_VOCALS})
    return StudySongs(
        speech=[s for s in speech if s.labels["language"] in labels],
        instrumental=[s for s in music if s.labels.get("soundtrack") not in WITH_VOCALS],
        singing=[s for s in songs if source_of(s) == SINGING]
        + [s for s in music if s.labels.get("soundtrack") in WITH_VOCALS],
        labels=labels,
        outside=[s for s in speech if s.labels["language"] not in labels],
    )


def held_out_voices(speech: list[Song], fold: int) -> tuple[str, ...]:
    """The ``fold``-th attributed voice of every language with two or more (module docstring)."""
    by_language = voices_by_language(speech)
    chosen = []
    for voices in by_language.values():
        named = [v for v in voices if not v.endswith(UNATTRIBUTED)]
        if len(named) >= 2 and fold < len(named):
            chosen.append(named[fold])
    return tuple(sorted(chosen))


def test_societies(excerpts: list[Song], *, seed: int) -> set[str]:
    """Half of the excerpts' societies, drawn with ``seed``: their singing is tested, never trained."""
    societies = sorted({s.labels["society"] for s in excerpts})
    return set(np.random.default_rng(seed).permutation(societies)[: len(societies) // 2].tolist())


def societies_split(excerpts: list[Song], labels: list[str], *, seed: int) -> dict[str, str]:
    """``{song_id: role}`` of D-PLACE excerpts in label-set languages: ``test`` in the
    :func:`test_societies`, else ``train``/``val``; the other languages' excerpts of the other
    societies are ``exposure`` (those of test societies get no role: no label space holds them)."""
    test = test_societies(excerpts, seed=seed)
    known = [s for s in excerpts if s.labels["language"] in labels]
    tested = {s.song_id: "test" for s in known if s.labels["society"] in test}
    exposed = {
        s.song_id: EXPOSURE
        for s in excerpts
        if s.labels["language"] not in labels and s.labels["society"] not in test
    }
    rest = [s for s in known if s.song_id not in tested]
    return {**split_train_val(rest, seed=seed, stratify="language"), **exposed, **tested}


def fold_split(
    songs: StudySongs, fold: int, *, seed: int, recipe: Recipe
) -> tuple[dict[str, str], tuple[str, ...]]:
    """``({song_id: role}, held-out voices)`` of one fold; songs in no role are never trained."""
    held_out = held_out_voices(songs.speech, fold)
    if not held_out:
        raise ValueError(f"fold {fold}: no language has {fold + 1} attributed voices to hold out")
    test = {s.song_id: "test" for s in songs.speech if s.labels["voice"] in held_out}
    trained = [s for s in songs.speech if s.song_id not in test]
    sung = societies_split(songs.excerpts(), songs.labels, seed=seed)
    if not recipe.exposure:
        sung = {song_id: role for song_id, role in sung.items() if role != EXPOSURE}
    assignment = {
        **split_train_val(trained, seed=seed, stratify="language"),
        **test,
        **split_songs(songs.instrumental, seed=seed, stratify="artist"),
        **sung,
    }
    return assignment, held_out


@dataclass(frozen=True)
class StudyRun(RecordedRun):
    recipe: Recipe
    fold: int
    seed: int
    paths: StudyPaths

    @property
    def key(self) -> str:
        return f"{self.recipe.name}/fold{self.fold}-seed{self.seed}"

    @property
    def cache_dir(self) -> Path:
        return self.paths.caches / CACHE

    def config(self, *, smoke: bool) -> TrainConfig:
        notes = {"study": "language", "run": self.key}
        config = replace(
            CONFIG,
            seed=self.seed,
            outlier_exposure=self.recipe.exposure,
            exposure_task="language",
            exposure_excludes=self.recipe.excludes,
            notes=notes,
        )
        return smoke_budget(config) if smoke else config


Runner = Callable[..., dict[str, Any]]  # (run, songs, *, smoke) -> the run's record


def study(
    folds: list[int],
    seeds: list[int],
    *,
    recipes: tuple[Recipe, ...] = (MIXED, SUNG, VOICED),
    paths: StudyPaths = PATHS,
    jobs: int = 2,
    smoke: bool = False,
    on_record: Callable[[], None] = lambda: None,
    runner: Runner,
) -> list[StudyRun]:
    """Run every missing (fold, seed) run with ``runner``; ``on_record`` after each."""
    songs = load_songs(paths.benchmarks, paths.caches / CACHE, jobs=jobs)
    runs = [StudyRun(recipe, fold, seed, paths) for seed in seeds for fold in folds for recipe in recipes]

    def measure(run: StudyRun) -> dict[str, Any]:
        record = runner(run, songs, smoke=smoke)
        return record | {"recipe": run.recipe.name, "fold": run.fold, "seed": run.seed, "smoke": smoke}

    record_missing(runs, measure, on_record=on_record)
    return runs
