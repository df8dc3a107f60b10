"""What the pipeline heard in one file (:class:`Analysis`), free of HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from frontend.evidence import Evidence
from frontend.labels import Label
from service.decisions import Decision, no_evidence
from service.ranking import Match, Scored, ranked

GalleryState = Literal["current", "stale"]  # see service.gallery.gallery.Gallery.state


@dataclass(frozen=True)
class Analysis:
    """What the model heard in one file.

    Attributes:
        duration_s: seconds of audio analysed (capped by ``max_duration_s``).
        evidence: whether the audio held enough usable signal; without it nothing below was
            computed (no segments, no probabilities) and every decision is ``no_evidence``.
        decisions: per task, known / unknown / no_evidence (:mod:`service.decisions`).
        segment_times: ``(start_s, end_s)`` of each 3-second segment.
        segment_probs: per task head, ``(n_segments, n_labels)`` probabilities.
        song_probs: per task head, ``(n_labels,)`` song-level probabilities summing to 1.
        segment_outputs: the network's other outputs (the ``embedding``), ``(n_segments, *shape)`` each.
        song_outputs: their mean over the song's segments, ``shape`` each (float64).
        labels: per task, the labels of ``song_probs`` in order (for language, the expert's and
            ``zxx`` when the model folder has a language expert).
        segment_labels: per task head, the labels of ``segment_probs`` (the network's heads);
            None: the same as ``labels``.
        voice: per segment, the probability that someone sings or speaks (the language gate's),
            when a language expert answered the language.
        artists: trained and enrolled artists most like the song, on the gallery's scale (empty
            without a gallery or evidence).
        gallery_state: the gallery's state when it ranked the song (``current`` or ``stale``);
            None when no gallery was asked.
    """

    duration_s: float
    evidence: Evidence
    decisions: dict[str, Decision]
    segment_times: list[tuple[float, float]]
    segment_probs: dict[str, np.ndarray]
    song_probs: dict[str, np.ndarray]
    segment_outputs: dict[str, np.ndarray]
    song_outputs: dict[str, np.ndarray]
    labels: dict[str, list[Label]]
    artists: list[Match] = field(default_factory=list)
    gallery_state: GalleryState | None = None
    segment_labels: dict[str, list[Label]] | None = None
    voice: np.ndarray | None = None

    @classmethod
    def without_evidence(
        cls, duration_s: float, evidence: Evidence, labels: dict[str, list[Label]]
    ) -> Analysis:
        """Nothing to recognise: no segments or outputs, every task ``no_evidence``."""
        decisions = no_evidence(list(labels), evidence.describe())
        return cls(
            duration_s=duration_s,
            evidence=evidence,
            decisions=decisions,
            segment_times=[],
            segment_probs={},
            song_probs={},
            segment_outputs={},
            song_outputs={},
            labels=labels,
        )

    @property
    def n_segments(self) -> int:
        return len(self.segment_times)

    def ranked(self, top_k: int) -> dict[str, list[Scored]]:
        """Per task, the song's ``top_k`` labels (none without evidence)."""
        return {
            task: ranked(self.song_probs[task], labels, top_k) if task in self.song_probs else []
            for task, labels in self.labels.items()
        }

    def segment_ranked(self, index: int, top_k: int) -> dict[str, list[Scored]]:
        """Per task, segment ``index``'s ``top_k`` labels."""
        labels = self.segment_labels or self.labels
        return {task: ranked(p[index], labels[task], top_k) for task, p in self.segment_probs.items()}
