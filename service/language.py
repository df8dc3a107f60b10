"""The song's language when the model folder has a language expert: the network gates, the expert names.

:mod:`frontend.language_gate` holds the rule; this applies it to one analysed song: the network's
per-segment language probabilities give the voice, the decoded samples give the expert its
windows. The expert runs in the calling thread (the pipeline's worker: the same admission slot
and deadline as the network), and only for songs with voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from frontend.audio import HOP_LENGTH, SEGMENT_FRAMES
from frontend.labels import Label
from frontend.language_gate import (
    NO_LANGUAGE,
    WINDOW_SAMPLES,
    GateRule,
    combine,
    no_voice,
    voice_probabilities,
    voiced_windows,
)

SEGMENT_HOP_SAMPLES = SEGMENT_FRAMES * HOP_LENGTH  # samples between two segments' starts


class Expert(Protocol):
    """What the gate asks of a language expert (:class:`service.expert.model.LanguageExpert`)."""

    labels: list[Label]

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]: ...


@dataclass(frozen=True)
class SongLanguage:
    """The gated answer for one song."""

    probs: np.ndarray  # (n_labels,) over :attr:`GatedLanguage.labels`, summing to 1
    voice: np.ndarray  # (n_segments,) each segment's voice probability
    windows: int  # how many windows the expert heard (0: the gate found no voice)


class GatedLanguage:
    """The network's voice and the expert's languages, combined (module docstring).

    Args:
        expert: the loaded expert.
        rule: the calibrated gate (voice threshold, windows heard).
        head_labels: the network's language head's labels; one of them is ``zxx``.
    """

    def __init__(self, expert: Expert, rule: GateRule, head_labels: Sequence[Label]) -> None:
        ids = [label.id for label in head_labels]
        if NO_LANGUAGE not in ids:
            raise ValueError(f"the network's language head has no {NO_LANGUAGE!r} to gate with: {ids}")
        self.expert = expert
        self.rule = rule
        self._zxx = ids.index(NO_LANGUAGE)
        no_language = head_labels[self._zxx]
        self.labels: list[Label] = [no_language, *(x for x in expert.labels if x.id != NO_LANGUAGE)]
        self._ids = [label.id for label in self.labels]

    def song(self, head_probs: np.ndarray, samples: np.ndarray) -> SongLanguage:
        """The song's language probabilities.

        Args:
            head_probs: the language head's ``(n_segments, n_head_labels)`` probabilities.
            samples: the decoded song, mono float32 at 16 kHz (the segments' source).
        """
        voice = voice_probabilities(head_probs, self._zxx)
        chosen = voiced_windows(voice, windows=self.rule.windows)
        score = chosen[0][1]
        if score < self.rule.voice_threshold:
            return SongLanguage(no_voice(score, self._ids), voice, 0)
        heard = []
        for start, _ in chosen:
            first = start * SEGMENT_HOP_SAMPLES
            heard.append(self.expert.language_probabilities(samples[first : first + WINDOW_SAMPLES]))
        probs = combine(heard, [w for _, w in chosen], score, self._ids)
        return SongLanguage(probs, voice, len(chosen))
