"""Open-set rules: when a song-level answer counts as a known label, kept apart from the network.

A model folder may hold ``openset.json``, one rule per task head::

    {"tasks": {"artist": {"score": "max_probability", "threshold": 0.41,
                          "calibration": {...how the threshold was set, as measured...}}}}

A song is ``known`` for a task when its score reaches the threshold, else ``unknown``. Scores
(higher = more like a known label):

- ``max_probability``: the song-level probability of the top label (the mean of the segment
  probabilities), in [0, 1].

``songid openset --calibrate`` measures the candidate scores and writes the file; the service
reads it with the model folder (:func:`frontend.artifact.load_artifact`), and a setting may
override a threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

import numpy as np

OPENSET_FILE: Final = "openset.json"
ScoreName = Literal["max_probability"]
SCORES: Final[tuple[str, ...]] = ("max_probability",)


class OpenSetError(ValueError):
    """An ``openset.json`` that does not follow the schema; the message names its source."""


@dataclass(frozen=True)
class OpenSetRule:
    """One task's rule: ``score`` of a song, known at or above ``threshold``."""

    score: ScoreName
    threshold: float
    calibration: dict[str, Any] = field(default_factory=dict)  # how the threshold was set

    def score_of(self, song_probs: np.ndarray) -> float:
        """The song's score from its ``(n_labels,)`` song-level probabilities."""
        return float(np.max(song_probs))

    def is_known(self, score: float) -> bool:
        return score >= self.threshold

    def document(self) -> dict[str, Any]:
        return {"score": self.score, "threshold": self.threshold, "calibration": self.calibration}


def parse_rules(document: Any, *, heads: list[str], where: str) -> dict[str, OpenSetRule]:
    """The rules of an ``openset.json`` document, checked against the model's task heads.

    Raises:
        OpenSetError: not the schema, an unknown score or task, or a threshold that is not finite.
    """
    try:
        raw = {
            str(task): (str(r["score"]), float(r["threshold"]), dict(r.get("calibration", {})))
            for task, r in document["tasks"].items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise OpenSetError(f"{where}: expected {{'tasks': {{task: {{score, threshold}}}}}} ({e!r})") from e
    rules = {}
    for task, (score, threshold, calibration) in raw.items():
        if task not in heads:
            raise OpenSetError(f"{where}: task {task!r} is not one of the model's heads {heads}")
        if score not in SCORES:
            raise OpenSetError(f"{where}: task {task!r}: score must be one of {list(SCORES)}, got {score!r}")
        if not math.isfinite(threshold):
            raise OpenSetError(f"{where}: task {task!r}: threshold must be finite, got {threshold}")
        rules[task] = OpenSetRule(cast(ScoreName, score), threshold, calibration)
    return rules


def rules_document(rules: dict[str, OpenSetRule]) -> dict[str, Any]:
    return {"tasks": {task: rule.document() for task, rule in rules.items()}}
