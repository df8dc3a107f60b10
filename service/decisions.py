"""Per task, what an answer is worth: a ``known`` label, ``unknown``, or ``no_evidence``.

Kept apart from the network (as speaker recognition keeps scoring and thresholds apart from
the embedding model): the network gives probabilities; the model folder's open-set rule
(:mod:`frontend.openset`), or a threshold set by the operator, decides.

- ``no_evidence``: the input has not enough usable signal (:mod:`frontend.evidence`); nothing
  was recognised and the network was not asked.
- ``known``: the song's score reaches the task's threshold; ``label`` is the top label.
- ``unknown``: it does not; the song is unlike every label the model knows.

A task with neither a rule nor an operator's threshold is closed-set: every answer is ``known``
and its ``threshold`` is null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from frontend.labels import Label
from frontend.openset import OpenSetRule

Status = Literal["known", "unknown", "no_evidence"]
OPERATOR = {"set_by": "operator"}  # the calibration record of a threshold the operator set


@dataclass(frozen=True)
class Decision:
    """One task's decision; ``score`` and ``threshold`` are the rule's (null where none applies)."""

    status: Status
    label: Label | None
    score: float | None
    threshold: float | None
    reason: str | None = None  # for no_evidence: what was missing, for people
    source: Literal["trained", "enrolled"] | None = None  # for a known answer: a model label, or enrolled


def effective_rules(
    rules: Mapping[str, OpenSetRule], thresholds: Mapping[str, float], heads: list[str]
) -> dict[str, OpenSetRule]:
    """The model's rules with the operator's thresholds applied (a threshold alone makes a rule).

    Raises:
        ValueError: a threshold for a task the model does not have.
    """
    unknown = sorted(set(thresholds) - set(heads))
    if unknown:
        raise ValueError(f"open-set thresholds for {unknown}, but the model's tasks are {heads}")
    effective = dict(rules)
    for task, threshold in thresholds.items():
        base = effective.get(task, OpenSetRule("max_probability", threshold))
        effective[task] = replace(base, threshold=float(threshold), calibration=dict(OPERATOR))
    return effective


def rule_source(rule: OpenSetRule) -> Literal["model", "operator"]:
    """Who set the rule's threshold: the model folder, or the operator's setting."""
    return "operator" if rule.calibration == OPERATOR else "model"


def decide(song_probs: np.ndarray, labels: list[Label], rule: OpenSetRule | None) -> Decision:
    """The decision for one task from its ``(n_labels,)`` song-level probabilities."""
    top = labels[int(np.argmax(song_probs))]
    if rule is None:
        return Decision("known", top, float(np.max(song_probs)), None, source="trained")
    score = rule.score_of(song_probs)
    if rule.is_known(score):
        return Decision("known", top, score, rule.threshold, source="trained")
    return Decision("unknown", None, score, rule.threshold)


def no_evidence(tasks: list[str], reason: str) -> dict[str, Decision]:
    """Every task's decision for an input with nothing to recognise."""
    return {task: Decision("no_evidence", None, None, None, reason) for task in tasks}
