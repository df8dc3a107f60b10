"""The bundled model's training songs: every benchmark, each song in one role, and its mixed copies.

``songid language-split`` writes what ``songid train`` then reads: a mel cache of the six
benchmarks (:func:`training.studies.language.load_songs`), its copy with every training speech song
mixed over training music (the chosen recipe's :class:`~training.augment.AugmentConfig`), and a
split over it. Songs a previous split already placed (the version-4 bundle's gamemusic and voices)
keep their role, so the closed-set figures stay comparable; speech is split 80/10/10 by group,
stratified by language; D-PLACE excerpts in label-set languages 80/10/10 by society, and with the
recipe's outlier exposure the excerpts in other languages are ``exposure`` songs of the language
head. Speech in a language outside the label set gets no role.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from training.augment import augmented_split, build_augmented_cache
from training.benchmarks.manifest import write_csv
from training.catalog import Song
from training.split import EXPOSURE, split_songs, write_split
from training.studies.language import Recipe, StudySongs, load_songs

OUTSIDE_FILE = "outside-languages.csv"  # beside the split


def bundle_split(songs: StudySongs, *, seed: int, recipe: Recipe, previous: dict[str, str]) -> dict[str, str]:
    """``{song_id: role}`` over every song of ``songs`` (module docstring)."""
    placed = [s for s in songs.speech + songs.instrumental + songs.singing if s.song_id in previous]
    kept = {s.song_id: previous[s.song_id] for s in placed}
    speech = [s for s in songs.speech if s.song_id not in kept]
    by_society = [replace(s, group=s.labels["society"]) for s in songs.known_singing()]
    assignment = {
        **kept,
        **split_songs(speech, seed=seed, stratify="language"),
        **split_songs(by_society, seed=seed, stratify="language"),
    }
    if recipe.exposure:
        others = [s for s in songs.excerpts() if s.labels["language"] not in songs.labels]
        assignment |= dict.fromkeys((s.song_id for s in others), EXPOSURE)
    return assignment


def write_bundle_split(
    benchmarks: Path, cache: Path, out: Path, *, recipe: Recipe, previous: Path | None, seed: int, jobs: int
) -> Path:
    """Cache, split and mix; returns the mixed cache to train on (``out`` is the split file).

    Raises:
        ValueError: ``previous`` is not a split file (checked before anything is cached or written).
    """
    earlier = read_assignment(previous) if previous else {}
    songs = load_songs(benchmarks, cache, jobs=jobs)
    assignment = bundle_split(songs, seed=seed, recipe=recipe, previous=earlier)
    music = [s.path for s in songs.instrumental if assignment.get(s.song_id) == "train"]
    speech = [s for s in songs.speech if assignment.get(s.song_id) == "train"]
    mixed = cache.with_name(f"{cache.name}-mix-{recipe.mix.chain_key()}")
    copies = build_augmented_cache(cache, mixed, speech, config=recipe.mix, music=music, jobs=jobs)
    write_split(out, augmented_split(assignment, copies), seed=seed, recipe=recipe.name, labels=songs.labels)
    write_outside(out.with_name(OUTSIDE_FILE), songs.outside)
    return mixed


def read_assignment(split_file: Path) -> dict[str, str]:
    """The ``{song_id: role}`` of a split file written by :func:`training.split.write_split`."""
    try:
        assignment = json.loads(split_file.read_text(encoding="utf-8"))["assignment"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{split_file}: not a split file ({type(e).__name__}: {e})") from e
    if not isinstance(assignment, dict):
        raise ValueError(f"{split_file}: not a split file (its assignment is not an object)")
    return assignment


def write_outside(path: Path, songs: list[Song]) -> None:
    """A manifest of ``songs`` (paths relative to it): speech in languages the model will not know,
    for calibrating and measuring its language rule (``songid openset --task language --unknown``)."""
    rows = [
        {
            "path": os.path.relpath(s.path, path.parent),
            "artist": "",
            "language": s.labels["language"],
            "group": s.group,
        }
        for s in songs
    ]
    write_csv(path, ("path", "artist", "language", "group"), rows)
