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

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import onnxruntime as ort
from tqdm import tqdm

from frontend.artifact import load_artifact
from frontend.audio import HOP_LENGTH, SEGMENT_FRAMES, load_audio, segment
from frontend.labels import Label
from frontend.language_gate import (
    NO_LANGUAGE,
    WINDOW_SAMPLES,
    combine,
    no_voice,
    voice_probabilities,
    voice_score,
)
from frontend.language_gate import voiced_windows as choose_windows
from frontend.signature import INPUT_NAME
from training.catalog import Song
from training.openset import val_threshold
from training.prepare import mel_path
from training.run_folder import write_json_atomic
from training.studies.language import VOICED, StudySongs, fold_split
from training.studies.language_run import language_figures, measured_sets

WINDOWS = (1, 2, 3)  # how many windows the gated expert hears: chosen by measurement
FIRST = 0  # the expert alone hears the song's first window, as its own detection does


class Expert(Protocol):
    labels: list[Label]

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]: ...


class ExpertAnswers:
    """The expert's answer per (song, first segment of the window), kept in one JSON file."""

    def __init__(
        self, path: Path, expert: Expert, audio: Callable[[Song], np.ndarray] = lambda s: load_audio(s.path)
    ) -> None:
        self.path, self.expert, self.audio = path, expert, audio
        self._answers: dict[str, dict[str, dict[str, float]]] = (
            json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        )
        self._unsaved = 0

    def __call__(self, song: Song, start: int) -> dict[str, float]:
        kept = self._answers.setdefault(song.song_id, {})
        if str(start) not in kept:
            samples = self.audio(song)
            first = start * SEGMENT_FRAMES * HOP_LENGTH
            window = samples[first : first + WINDOW_SAMPLES]
            kept[str(start)] = self.expert.language_probabilities(window if len(window) else samples[:1])
            self._unsaved += 1
            if self._unsaved >= 50:
                self.save()
        return kept[str(start)]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, self._answers)
        self._unsaved = 0


class FoldNetwork:
    """The fold's exported network: per-segment voice probabilities of a cached song."""

    def __init__(self, model_dir: Path, cache: Path) -> None:
        artifact = load_artifact(model_dir)
        self.cache = cache
        self.zxx = [label.id for label in artifact.labels["language"]].index(NO_LANGUAGE)
        self._session = ort.InferenceSession(str(artifact.onnx_path), providers=["CPUExecutionProvider"])

    def voice(self, song: Song) -> np.ndarray:
        segments = segment(np.load(mel_path(self.cache, song.song_id)))[..., np.newaxis]
        (probs,) = self._session.run(["language"], {INPUT_NAME: segments})
        return voice_probabilities(np.asarray(probs), self.zxx)


def gated_probs(
    voice: np.ndarray,
    song: Song,
    answers: ExpertAnswers,
    labels: list[str],
    *,
    threshold: float,
    windows: int,
) -> np.ndarray:
    """The served combination for one song (``frontend.language_gate``)."""
    chosen = choose_windows(voice, windows=windows)
    score = chosen[0][1]
    if score < threshold:
        return no_voice(score, labels)
    heard = [answers(song, start) for start, _ in chosen]
    return combine(heard, [w for _, w in chosen], score, labels)


def gate_threshold(voiced: Sequence[float], silent: Sequence[float]) -> float:
    """The voice threshold that best separates voiced validation songs from instrumental ones:
    the midpoint that maximises the mean of the two recalls (ties: the lowest)."""
    scores = np.array(sorted({*voiced, *silent, 0.0, 1.0}))
    cuts = (scores[:-1] + scores[1:]) / 2
    v, s = np.asarray(voiced), np.asarray(silent)
    balanced = [np.mean(v >= c) / 2 + np.mean(s < c) / 2 for c in cuts]
    return float(cuts[int(np.argmax(balanced))])


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
        voice: a song's per-segment voice probability, by the fold's network (:class:`FoldNetwork`).
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
