"""The song's language when the model folder has a language expert: the network gates, the expert names.

:mod:`frontend.language_gate` holds the rule; this applies it to one analysed song: the network's
per-segment language probabilities give the voice, the decoded samples give the expert its
windows. The expert runs in the calling thread (the pipeline's worker: the same admission slot
and deadline as the network), and only for songs with voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from frontend.labels import Label
from frontend.language_gate import NO_LANGUAGE, Expert, GateRule, gated, voice_probabilities, window


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
        hear = partial(_hear, self.expert, samples)
        probs, windows = gated(voice, self.rule, self._ids, hear)
        return SongLanguage(probs, voice, windows)


def _hear(expert: Expert, samples: np.ndarray, start: int) -> dict[str, float]:
    return expert.language_probabilities(window(samples, start))
