"""The one ``labels.json`` schema, shared by training run folders and model folders.

::

    {"tasks": {"<task>": [{"id": "<stable id>", "name": "<display name>"}, ...], ...}}

Tasks keep their order (the order of the network's heads), and within a task a label's
position is its output unit. Ids are unique within a task. A run folder written before this
schema (``{"<task>": ["<id>", ...]}``) still reads, each name equal to its id.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LABELS_FILE = "labels.json"


class LabelsError(ValueError):
    """A labels document that does not follow the schema; the message names the file and the fault."""


@dataclass(frozen=True)
class Label:
    id: str
    name: str


LabelSet = dict[str, list[Label]]  # task -> labels, index = output unit


def from_ids(ids: dict[str, list[str]]) -> LabelSet:
    """Labels whose display name is their id (what training knows before export names them)."""
    return {task: [Label(id=x, name=x) for x in names] for task, names in ids.items()}


def label_ids(labels: LabelSet) -> dict[str, list[str]]:
    """Per task, the ids in output order."""
    return {task: [label.id for label in items] for task, items in labels.items()}


def labels_document(labels: LabelSet) -> dict[str, Any]:
    """The JSON document for ``labels`` (after checking it)."""
    _check(labels, where="labels")
    return {"tasks": {task: [{"id": x.id, "name": x.name} for x in items] for task, items in labels.items()}}


def write_labels(path: Path, labels: LabelSet) -> None:
    """Write ``labels`` to ``path`` (a ``labels.json``)."""
    path.write_text(json.dumps(labels_document(labels), indent=1, ensure_ascii=False), encoding="utf-8")


def parse_labels(document: Any, *, where: str) -> LabelSet:
    """Labels from a parsed ``labels.json``; ``where`` names its source in errors.

    Raises:
        LabelsError: not the schema, a task without labels, or an id given twice in one task.
    """
    try:
        if isinstance(document, dict) and "tasks" in document:
            labels = {
                str(task): [Label(id=str(item["id"]), name=str(item["name"])) for item in items]
                for task, items in document["tasks"].items()
            }
        elif isinstance(document, dict):  # a run folder from before the shared schema
            labels = from_ids({str(task): [str(x) for x in ids] for task, ids in document.items()})
        else:
            raise TypeError(f"a JSON object, got {type(document).__name__}")
    except (KeyError, TypeError, AttributeError) as e:
        raise LabelsError(f"{where}: expected {{'tasks': {{task: [{{id, name}}]}}}} ({e!r})") from e
    _check(labels, where=where)
    return labels


def read_labels(path: Path) -> LabelSet:
    """Read a ``labels.json``.

    Raises:
        LabelsError: missing, unreadable, or not the schema.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise LabelsError(f"{path}: missing") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LabelsError(f"{path}: not readable JSON ({e})") from e
    return parse_labels(document, where=str(path))


def _check(labels: LabelSet, *, where: str) -> None:
    if not labels:
        raise LabelsError(f"{where}: no tasks")
    for task, items in labels.items():
        if not items:
            raise LabelsError(f"{where}: task {task!r} has no labels")
        twice = sorted(x for x, n in Counter(label.id for label in items).items() if n > 1)
        if twice:
            raise LabelsError(f"{where}: task {task!r} lists the id(s) {twice[:5]} more than once")
