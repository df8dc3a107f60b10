"""Loaders of the model folder's components, by role (:mod:`frontend.components`).

The task-heads network is :class:`service.model.SongModel`'s own; every other role a folder may
list has its loader here, and a role without one stops the start (:data:`SERVED_ROLES`). Adding
a component to the service is one loader and one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from frontend.artifact import Artifact
from frontend.components import LANGUAGE_EXPERT, TASK_HEADS, ComponentError
from frontend.language_gate import GateRule
from frontend.openset import OpenSetError, OpenSetRule, parse_rules
from service.language import GatedLanguage


class ComponentLoadError(RuntimeError):
    """A component the folder lists cannot be loaded (the message names it and why)."""


@dataclass(frozen=True)
class LanguageState:
    """The language expert as served: loaded, absent from the folder, or not part of the model."""

    state: str  # "loaded", "absent" or "none"
    name: str | None = None
    language: GatedLanguage | None = None
    rule: OpenSetRule | None = None  # the open-set rule of the combined language answer


def load_language(artifact: Artifact, *, device: str, threads: int) -> LanguageState:
    """The folder's language expert with its gate, on ``device`` (``cpu`` or ``cuda``).

    Raises:
        ComponentLoadError: the expert is there but its settings are not valid, or it cannot load.
    """
    listed = artifact.components.by_role(LANGUAGE_EXPERT)
    if not listed:
        return LanguageState("none")
    component = listed[0]
    if component.name in artifact.absent:
        return LanguageState("absent", component.name)
    where = f"{artifact.root}/components.json, component {component.name!r}"
    try:
        rule = GateRule.from_document(component.settings.get("gate", {}), where=where)
        open_set = parse_rules(
            {"tasks": {"language": component.settings["open_set"]}}, heads=["language"], where=where
        )
    except (KeyError, ValueError, OpenSetError) as e:
        raise ComponentLoadError(f"{where}: settings need a gate and an open_set rule ({e})") from e
    from service.expert.model import ExpertError, LanguageExpert  # lazy: CTranslate2 only where served

    try:
        folder = artifact.root / str(component.folder())
        expert = LanguageExpert(folder, device=device, cpu_threads=threads, pins=component.pins())
    except (ComponentError, ExpertError) as e:
        raise ComponentLoadError(f"{folder}: the language expert cannot be loaded: {e}") from e
    language = GatedLanguage(expert, rule, artifact.labels["language"])
    return LanguageState("loaded", component.name, language, open_set["language"])


SERVED_ROLES: Final = (
    TASK_HEADS,
    LANGUAGE_EXPERT,
)  # the roles this service loads: the model's and load_language
