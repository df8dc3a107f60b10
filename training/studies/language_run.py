"""One run of the language study: mix, train, export, then the CNN and the baseline measured.

Imports TensorFlow (through training and export); the command imports this lazily.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from frontend.artifact import load_artifact
from frontend.audio import segment
from training.augment import augmented_split, build_augmented_cache
from training.baseline import BaselineConfig, LogRegBaseline
from training.catalog import Song
from training.dataset import SongMels, label_space
from training.export import export_run
from training.openset import Network, val_threshold
from training.prepare import mel_path
from training.split import EXPOSURE, write_split
from training.studies.compare import run_variant
from training.studies.language import NO_VOCALS, StudyRun, StudySongs, fold_split, test_societies

BASELINE_SEGMENTS = 8  # evenly spaced segments a training song: the features are cheap, the fit is not
SongProbs = Callable[[np.ndarray], np.ndarray]  # a song's log-mel -> its language probabilities


def language_figures(
    probs: np.ndarray, truth: list[str], labels: list[str], *, threshold: float | None = None
) -> dict[str, Any]:
    """Song top-1, macro recall (over the true languages present), zxx rate and the reference rates
    of the closed-set answer; with ``threshold``, also the answers as the service gives them.

    Args:
        probs: ``(n_songs, n_labels)`` song-level language probabilities.
        truth: each song's language (may be outside ``labels``: then only the zxx rate means much).
        labels: the output units' names.
        threshold: the ``max_probability`` open-set rule's threshold: a song whose top probability
            is under it is answered ``unknown`` (``served``: zxx rate, unknown rate, top-1 of all).
    """
    answers = [labels[i] for i in np.argmax(probs, axis=1)] if len(truth) else []
    right = [a == t for a, t in zip(answers, truth, strict=True)]
    per_language = {
        lang: float(np.mean([r for r, t in zip(right, truth, strict=True) if t == lang]))
        for lang in sorted(set(truth))
    }
    counts = {lang: truth.count(lang) for lang in sorted(set(truth))}
    known = [t for t in truth if t in labels and t != NO_VOCALS]
    n_classes = len([label for label in labels if label != NO_VOCALS])
    served = None
    if threshold is not None and truth:
        accepted = probs.max(axis=1) >= threshold
        served = {
            "threshold": threshold,
            "zxx_rate": float(np.mean(accepted & (np.array(answers) == NO_VOCALS))),
            "unknown_rate": float(np.mean(~accepted)),
            "top1": float(np.mean(accepted & np.array(right))),
        }
    return {
        "songs": len(truth),
        "top1": float(np.mean(right)) if truth else None,
        "macro_recall": float(np.mean(list(per_language.values()))) if truth else None,
        "zxx_rate": float(np.mean([a == NO_VOCALS for a in answers])) if truth else None,
        "majority_rate": max(counts.values()) / len(truth) if truth else None,
        "chance": 1.0 / n_classes if known else None,
        "per_language": {lang: {"songs": counts[lang], "recall": per_language[lang]} for lang in counts},
        "answers": dict(sorted(Counter(answers).items())),
        "served": served,
    }


def _probs(song_probs: SongProbs, cache: Path, songs: list[Song], n_labels: int) -> np.ndarray:
    probs = [song_probs(np.load(mel_path(cache, s.song_id))) for s in tqdm(songs, leave=False)]
    return np.array(probs).reshape(len(songs), n_labels)


def _measure(
    song_probs: SongProbs, cache: Path, songs: list[Song], labels: list[str], threshold: float | None = None
) -> dict[str, Any]:
    probs = _probs(song_probs, cache, songs, len(labels))
    truth = [s.labels["language"] for s in songs]
    return language_figures(probs, truth, labels, threshold=threshold)


def measured_sets(
    songs: StudySongs, assignment: dict[str, str], held_out: tuple[str, ...], *, seed: int
) -> dict[str, list[Song]]:
    """The songs each figure of the report is measured on (see :mod:`training.studies.language`)."""
    tested = test_societies(songs.excerpts(), seed=seed)
    excerpts = [s for s in songs.excerpts() if s.labels["society"] in tested]
    return {
        "unseen_speaker": [s for s in songs.speech if s.labels["voice"] in held_out],
        "instrumental": [s for s in songs.instrumental if assignment.get(s.song_id) == "test"],
        "singing_dplace": excerpts,
        "singing_muldjord": [s for s in songs.singing if not s.labels.get("society")],
        "singing_known_language": [s for s in excerpts if s.labels["language"] in songs.labels],
    }


def measure_run(run: StudyRun, songs: StudySongs, *, smoke: bool = False) -> dict[str, Any]:
    """Train (or resume) the fold's CNN and fit the baseline; both measured on every test set."""
    assignment, held_out = fold_split(songs, run.fold, seed=run.seed, recipe=run.recipe)
    role = assignment.get
    music = [s.path for s in songs.instrumental if role(s.song_id) == "train"]
    speech = [s for s in songs.speech if role(s.song_id) == "train"]
    mix = run.recipe.mix
    mixed_cache = run.paths.caches / f"language-mix-{mix.chain_key()}-seed{run.seed}"  # same music a seed
    copies = build_augmented_cache(run.cache_dir, mixed_cache, speech, config=mix, music=music)
    split_file = run.run_dir.parent / f"{run.run_dir.name}.split.json"
    write_split(split_file, augmented_split(assignment, copies), seed=run.seed, held_out=list(held_out))
    config = run.config(smoke=smoke)
    closed = run_variant(mixed_cache, split_file, run.run_dir, config)
    artifact = load_artifact(export_run(run.run_dir, run.run_dir / "export", name="language-study"))
    network = Network(artifact)
    labels = [label.id for label in artifact.labels["language"]]

    everyone = songs.speech + songs.instrumental + songs.known_singing()
    trained = [s for s in everyone if role(s.song_id) == "train"]
    space = label_space(trained, config.tasks)
    fitted = BaselineConfig(tasks=config.tasks, segments_per_song=BASELINE_SEGMENTS)
    train_mels = SongMels.load(run.cache_dir, trained, space)
    baseline = LogRegBaseline.fit(train_mels, space, fitted, seed=run.seed)

    def cnn(mel: np.ndarray) -> np.ndarray:
        return network.song(mel).probs["language"]

    def trivial(mel: np.ndarray) -> np.ndarray:
        return baseline.predict(segment(mel)[..., np.newaxis])["language"].mean(axis=0)

    # the service's rule: the top probability that rejects VAL_FALSE_REJECTS of the validation songs
    # (without validation songs there is none, and no served figures)
    val = [s for s in everyone if role(s.song_id) == "val"]
    val_top = _probs(cnn, run.cache_dir, val, len(labels)).max(axis=1) if val else None
    threshold = None if val_top is None else val_threshold(val_top)
    sets = measured_sets(songs, assignment, held_out, seed=run.seed)
    base = space["language"]
    counts = {name: len(chosen) for name, chosen in sets.items()}
    return {
        "held_out": list(held_out),
        "labels": labels,
        "baseline_labels": base,
        "songs": counts
        | {
            "train": len(trained),
            "mixed_copies": sum(len(c) for c in copies.values()),
            "exposure": sum(r == EXPOSURE for r in assignment.values()),
        },
        "cnn": {
            name: _measure(cnn, run.cache_dir, chosen, labels, threshold) for name, chosen in sets.items()
        },
        "baseline": {name: _measure(trivial, run.cache_dir, chosen, base) for name, chosen in sets.items()},
        "train": closed.get("train", {}),
    }
