"""The language gate: the network hears whether someone sings or speaks, the expert names the language.

The network's language head gives, for every 3-second segment, the probability of ``zxx`` (no
linguistic content); one minus it is the segment's **voice** probability. A song's voice score
is the mean voice probability of its most voiced window of :data:`WINDOW_SEGMENTS` segments (the
30 s the expert hears at once; the whole song when shorter). Below the rule's ``voice_threshold``
the song has no voice: the language is ``zxx`` and the expert is not run. Otherwise the expert
hears the rule's ``windows`` most voiced windows (they do not overlap), its language
probabilities are averaged, weighted by each window's voice, and the song's ranking is::

    p(zxx) = 1 - voice score        p(language) = voice score * expert's p(language)

which sums to 1 over ``zxx`` and the expert's languages. Nothing here runs a network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np

from frontend.audio import HOP_LENGTH, SEGMENT_FRAMES
from frontend.labels import Label

NO_LANGUAGE: Final = "zxx"  # ISO 639-2: no linguistic content
WINDOW_SEGMENTS: Final = 10  # 10 x 2.992 s = 29.9 s: the expert's 30-s window
SEGMENT_HOP_SAMPLES: Final = SEGMENT_FRAMES * HOP_LENGTH  # samples between two segments' starts, 16 kHz
WINDOW_SAMPLES: Final = WINDOW_SEGMENTS * SEGMENT_HOP_SAMPLES  # samples of one window


class Expert(Protocol):
    """What the gate asks of a language expert (:class:`service.expert.model.LanguageExpert`)."""

    labels: list[Label]

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]: ...


@dataclass(frozen=True)
class GateRule:
    """When a song has voice, and how many windows the expert hears (calibrated, in the model folder)."""

    voice_threshold: float  # voice score under this: zxx, the expert is not run
    windows: int = 1  # the most voiced windows the expert hears

    def __post_init__(self) -> None:
        if not 0.0 <= self.voice_threshold <= 1.0 or self.windows < 1:
            raise ValueError(
                "voice_threshold must be in [0, 1] and windows >= 1, "
                f"got {self.voice_threshold}, {self.windows}"
            )

    def document(self) -> dict[str, Any]:
        return {"voice_threshold": self.voice_threshold, "windows": self.windows}

    @classmethod
    def from_document(cls, document: Mapping[str, Any], *, where: str) -> GateRule:
        try:
            return cls(float(document["voice_threshold"]), int(document.get("windows", 1)))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{where}: expected {{voice_threshold, windows}} ({e})") from e


def voice_probabilities(language_probs: np.ndarray, zxx_index: int) -> np.ndarray:
    """Per segment, the probability that someone sings or speaks: ``(n_segments,)`` from the
    language head's ``(n_segments, n_labels)`` softmax and the column of ``zxx``."""
    if language_probs.ndim != 2 or not 0 <= zxx_index < language_probs.shape[1]:
        raise ValueError(
            f"expected (n_segments, n_labels) and a zxx column, got {language_probs.shape}, {zxx_index}"
        )
    return np.clip(1.0 - language_probs[:, zxx_index], 0.0, 1.0)


def voiced_windows(voice: np.ndarray, *, windows: int) -> list[tuple[int, float]]:
    """The ``windows`` most voiced windows that do not overlap, most voiced first.

    Args:
        voice: per-segment voice probability, ``(n_segments,)``, n_segments >= 1.
        windows: how many to choose at most (a short song has fewer).

    Returns:
        ``(first segment, mean voice)`` of each window; a window spans :data:`WINDOW_SEGMENTS`
        segments from its first (or to the song's end).
    """
    n = len(voice)
    if n == 0:
        raise ValueError("a song of no segments has no window")
    width = min(WINDOW_SEGMENTS, n)
    means = np.convolve(voice, np.ones(width) / width, mode="valid")  # (n - width + 1,)
    chosen: list[tuple[int, float]] = []
    taken = np.zeros(len(means), dtype=bool)
    for start in np.argsort(-means, kind="stable"):
        if taken[start]:
            continue
        chosen.append((int(start), float(means[start])))
        if len(chosen) == windows:
            break
        taken[max(0, start - width + 1) : start + width] = True  # windows overlapping this one
    return chosen


def voice_score(voice: np.ndarray) -> float:
    """The song's voice score: the mean voice of its most voiced window."""
    return voiced_windows(voice, windows=1)[0][1]


def combine(
    expert: Sequence[Mapping[str, float]], weights: Sequence[float], score: float, labels: Sequence[str]
) -> np.ndarray:
    """The song's probabilities over ``labels`` (``zxx`` and the expert's languages).

    Args:
        expert: per window heard, the expert's probability of each language.
        weights: each window's mean voice (how much it counts).
        score: the song's voice score.
        labels: label ids in output order; one of them is ``zxx``.

    Returns:
        ``(len(labels),)`` probabilities summing to 1 (module docstring).
    """
    if len(expert) != len(weights) or not expert:
        raise ValueError(
            f"need one weight per window heard, got {len(expert)} windows, {len(weights)} weights"
        )
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    mean = {
        label: sum(wi * probs.get(label, 0.0) for wi, probs in zip(w, expert, strict=True))
        for label in labels
    }
    total = sum(v for k, v in mean.items() if k != NO_LANGUAGE) or 1.0
    out = np.array([(1.0 - score) if k == NO_LANGUAGE else score * mean[k] / total for k in labels])
    return out / out.sum()


def no_voice(score: float, labels: Sequence[str]) -> np.ndarray:
    """The probabilities of a song the gate finds without voice (the expert not run): ``zxx`` at
    ``1 - score``, the rest spread evenly (someone may sing, in no language we were told)."""
    others = len(labels) - 1
    return np.array([(1.0 - score) if k == NO_LANGUAGE else score / max(others, 1) for k in labels])


def window(samples: np.ndarray, start: int) -> np.ndarray:
    """The samples of the window whose first segment is ``start`` (:func:`voiced_windows`)."""
    first = start * SEGMENT_HOP_SAMPLES
    return samples[first : first + WINDOW_SAMPLES]


def gated(
    voice: np.ndarray, rule: GateRule, labels: Sequence[str], hear: Callable[[int], Mapping[str, float]]
) -> tuple[np.ndarray, int]:
    """The song's probabilities over ``labels`` as the module docstring says, and how many windows
    the expert heard (0: no voice); ``hear(start)`` is the expert's answer for the window whose
    first segment is ``start``. The service and the offline measurement both answer through this."""
    chosen = voiced_windows(voice, windows=rule.windows)
    score = chosen[0][1]
    if score < rule.voice_threshold:
        return no_voice(score, labels), 0
    heard = [hear(start) for start, _ in chosen]
    return combine(heard, [w for _, w in chosen], score, labels), len(chosen)
