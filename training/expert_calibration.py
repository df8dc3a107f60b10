"""The language expert beside an exported network: its answers kept, the gate applied, calibrated.

The gate is :mod:`frontend.language_gate`'s; this measures it offline, on cached songs, the way
the service applies it (:mod:`service.language`): the network's per-segment voice, the expert's
answer for each window it hears (kept in a JSON file, so that nothing is heard twice), and the
two thresholds a model folder's expert component carries, set on validation songs:
:func:`gate_threshold` (voice) and the open-set rule of the combined answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tqdm import tqdm

from frontend.artifact import load_artifact
from frontend.audio import load_audio, segment
from frontend.components import Component
from frontend.language_gate import (
    NO_LANGUAGE,
    Expert,
    GateRule,
    gated,
    voice_probabilities,
    voice_score,
    window,
)
from frontend.signature import INPUT_NAME
from training.catalog import Song
from training.openset import val_threshold
from training.prepare import mel_path
from training.run_folder import songs_by_split, write_json_atomic


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
            kept[str(start)] = self.expert.language_probabilities(window(self.audio(song), start))
            self._unsaved += 1
            if self._unsaved >= 50:
                self.save()
        return kept[str(start)]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, self._answers)
        self._unsaved = 0


class VoiceNetwork:
    """An exported network's per-segment voice probabilities of a cached song."""

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
    """The served combination for one song (:func:`frontend.language_gate.gated`)."""
    return gated(voice, GateRule(threshold, windows), labels, partial(answers, song))[0]


def gate_threshold(voiced: Sequence[float], silent: Sequence[float]) -> float:
    """The voice threshold that best separates voiced validation songs from instrumental ones:
    the midpoint that maximises the mean of the two recalls (ties: the lowest)."""
    scores = np.array(sorted({*voiced, *silent, 0.0, 1.0}))
    cuts = (scores[:-1] + scores[1:]) / 2
    v, s = np.asarray(voiced), np.asarray(silent)
    balanced = [np.mean(v >= c) / 2 + np.mean(s < c) / 2 for c in cuts]
    return float(cuts[int(np.argmax(balanced))])


def calibrate_component(
    model_dir: Path,
    *,
    expert: Expert,
    answers: ExpertAnswers,
    cache: Path,
    split_file: Path,
    windows: int,
    component: Component,
) -> Component:
    """``component`` (the folder's language expert) with its gate and open-set rule set on the
    validation songs of ``split_file`` (the network's own: it never trained on them).

    The voice threshold is :func:`gate_threshold` of the voiced against the instrumental (``zxx``)
    validation songs; the open-set threshold rejects ``VAL_FALSE_REJECTS`` of the validation songs'
    gated answers, as every open-set rule of the service does.

    Raises:
        ValueError: the split has no voiced or no instrumental validation song in ``cache``.
    """
    network = VoiceNetwork(model_dir, cache)
    val = [s for s in songs_by_split(cache, split_file)["val"] if s.labels.get("language")]
    voices = {s.song_id: network.voice(s) for s in tqdm(val, desc="validation voice", leave=False)}
    silent = [voice_score(voices[s.song_id]) for s in val if s.labels["language"] == NO_LANGUAGE]
    voiced = [voice_score(voices[s.song_id]) for s in val if s.labels["language"] != NO_LANGUAGE]
    if not silent or not voiced:
        raise ValueError(f"{split_file}: needs voiced and instrumental validation songs in {cache}")
    threshold = gate_threshold(voiced, silent)
    labels = [NO_LANGUAGE, *(label.id for label in expert.labels)]
    top = [
        gated_probs(voices[s.song_id], s, answers, labels, threshold=threshold, windows=windows).max()
        for s in tqdm(val, desc="validation expert", leave=False)
    ]
    answers.save()
    calibration = {"val_songs": len(val), "val_voiced": len(voiced), "val_instrumental": len(silent)}
    settings = {
        "gate": GateRule(threshold, windows).document() | {"calibration": calibration},
        "open_set": {"score": "max_probability", "threshold": val_threshold(top), "calibration": calibration},
    }
    return replace(component, settings=settings)
