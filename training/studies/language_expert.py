"""The language expert, gated by the network: measured on the language study's test sets.

For each fold of the language study (:mod:`training.studies.language`, recipe ``voiced``, the
bundled model's), with that fold's trained network (``songid language-study``'s export), four
rows on the same songs: the network alone and the trivial baseline (the language study's
record), the expert alone (its own detection on the song's first 30 s, as it is used by
default) and the gated combination (:mod:`frontend.language_gate`) hearing 1, 2 or 3 windows.
The gate's voice threshold and the open-set threshold of the combined answer are set on the
fold's validation songs, never on its test songs. The expert's answer for every window it
hears is kept in a cache file per fold, so a study interrupted resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm import tqdm

from frontend.language_gate import (
    NO_LANGUAGE,
    Expert,
    voice_score,
)
from training.catalog import Song
from training.expert_calibration import ExpertAnswers, gate_threshold, gated_probs
from training.openset import val_threshold
from training.studies.language import VOICED, StudySongs, fold_split
from training.studies.language_run import language_figures, measured_sets

WINDOWS = (1, 2, 3)  # how many windows the gated expert hears: chosen by measurement
FIRST = 0  # the expert alone hears the song's first window, as its own detection does


def measure_fold(
    songs: StudySongs,
    fold: int,
    *,
    voice: Callable[[Song], np.ndarray],
    expert: Expert,
    answers: ExpertAnswers,
    seed: int = 0,
) -> dict[str, Any]:
    """The four rows on fold ``fold``'s test sets (module docstring), as one record.

    Args:
        voice: a song's per-segment voice probability, by the fold's network (:class:`VoiceNetwork`).
        answers: the expert's answers, kept (:class:`ExpertAnswers`).
    """
    assignment, held_out = fold_split(songs, fold, seed=seed, recipe=VOICED)
    labels = [NO_LANGUAGE, *[label.id for label in expert.labels]]
    sets = measured_sets(songs, assignment, held_out, seed=seed)
    sets["singing_expert_language"] = [s for s in sets["singing_dplace"] if s.labels["language"] in labels]
    everyone = songs.speech + songs.instrumental + songs.excerpts()
    val = [s for s in everyone if assignment.get(s.song_id) == "val"]
    voices = {s.song_id: voice(s) for s in tqdm(val, desc=f"fold {fold} validation", leave=False)}
    instrumental = {s.song_id for s in songs.instrumental}
    silent = [voice_score(voices[s.song_id]) for s in val if s.song_id in instrumental]
    voiced = [voice_score(voices[s.song_id]) for s in val if s.song_id not in instrumental]
    threshold = gate_threshold(voiced, silent)
    record: dict[str, Any] = {
        "fold": fold,
        "held_out": list(held_out),
        "labels": labels,
        "gate": {"voice_threshold": threshold, "val_voiced": len(voiced), "val_instrumental": len(silent)},
        "songs": {name: len(chosen) for name, chosen in sets.items()},
        "expert": {},
        "gated": {},
    }
    alone = lambda s: np.array([answers(s, FIRST).get(k, 0.0) for k in labels])  # noqa: E731
    tested = {name: [(s, voice(s)) for s in chosen] for name, chosen in sets.items()}
    for name, pairs in tested.items():
        truth = [s.labels.get("language", "") for s, _ in pairs]
        probs = np.array([alone(s) for s, _ in tqdm(pairs, desc=f"expert {name}", leave=False)])
        record["expert"][name] = language_figures(probs.reshape(len(pairs), len(labels)), truth, labels)
    for k in WINDOWS:
        val_top = [
            gated_probs(voices[s.song_id], s, answers, labels, threshold=threshold, windows=k).max()
            for s in val
        ]
        rule = val_threshold(np.array(val_top))
        record["gated"][str(k)] = {"open_set_threshold": rule}
        for name, pairs in tested.items():
            truth = [s.labels.get("language", "") for s, _ in pairs]
            probs = np.array(
                [gated_probs(v, s, answers, labels, threshold=threshold, windows=k) for s, v in pairs]
            ).reshape(len(pairs), len(labels))
            record["gated"][str(k)][name] = language_figures(probs, truth, labels, threshold=rule)
        answers.save()
    return record
