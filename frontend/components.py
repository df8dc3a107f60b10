"""The components of a model folder: which networks it holds, what each is for, and where it came from.

Stored as ``components.json`` in the model folder (see :mod:`frontend.artifact`)::

    {"gallery_task": "artist",
     "components": [
       {"name": "multitask", "role": "task_heads",
        "files": {"5/model.onnx": "<sha256>"}, "signature": "signature.json",
        "provenance": {"source": "...", "licence": "MIT", "training_data": "..."}}]}

A component's ``role`` says what the service does with it: ``task_heads`` is a network giving one
softmax per task (and the ``embedding`` its heads read), ``embedding`` a network giving an
embedding to compare artists on, ``language_expert`` a pretrained model that names the language.
Every file is pinned by its SHA-256: a folder whose file differs is refused, naming the file and
both hashes. ``gallery_task`` names the head whose labels the gallery serves (``null``: none).
Adding a component is one entry here and one loader for its role in the service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal, get_args

COMPONENTS_FILE: Final = "components.json"
Role = Literal["task_heads", "embedding", "language_expert"]
ROLES: Final = get_args(Role)
TASK_HEADS: Final = "task_heads"
LANGUAGE_EXPERT: Final = "language_expert"
CHUNK: Final = 1 << 20  # bytes read at a time while hashing: a 145 MB file stays out of memory


class ComponentError(ValueError):
    """A components document that does not follow the schema, or a file that is not the pinned one."""


def sha256_file(path: Path) -> str:
    """The file's SHA-256, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Provenance:
    """Where a component came from: enough to audit it and to obtain it again."""

    source: str  # how it was made or where it was obtained
    licence: str
    training_data: str  # what it was trained on
    details: dict[str, Any] = field(default_factory=dict)  # anything more (paper, conversion, version)

    def document(self) -> dict[str, Any]:
        return {"source": self.source, "licence": self.licence, "training_data": self.training_data} | (
            {"details": self.details} if self.details else {}
        )


@dataclass(frozen=True)
class Component:
    """One network or model of the folder; ``files`` maps paths (relative to the folder) to SHA-256."""

    name: str
    role: Role
    files: Mapping[str, str]
    provenance: Provenance
    signature: str | None = None  # the file naming its inputs and outputs, if it has one
    # obtained apart from the folder (too large to ship with it): its files may all be absent,
    # and the service then serves without it; a file present must still be the pinned one
    optional: bool = False
    settings: Mapping[str, Any] = field(default_factory=dict)  # how it is used, calibrated (e.g. a gate)

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "files": dict(self.files),
            **({"signature": self.signature} if self.signature else {}),
            **({"optional": True} if self.optional else {}),
            **({"settings": dict(self.settings)} if self.settings else {}),
            "provenance": self.provenance.document(),
        }

    def folder(self) -> PurePosixPath:
        """The one folder (relative to the model folder) holding every file of the component.

        Raises:
            ComponentError: its files are in several folders.
        """
        parents = {PurePosixPath(relative).parent for relative in self.files}
        if len(parents) != 1:
            raise ComponentError(
                f"component {self.name!r}: its files are not in one folder: {sorted(map(str, parents))}"
            )
        return parents.pop()

    def pins(self) -> dict[str, str]:
        """File name (within :meth:`folder`) -> pinned SHA-256."""
        return {PurePosixPath(relative).name: sha for relative, sha in self.files.items()}

    def verify(self, root: Path) -> bool:
        """True when every file is there and is the pinned one; False for an optional component
        none of whose files is there. Raises ComponentError for a file that differs from its pinned
        hash, or is missing (while the component is required, or some of its files are there)."""
        if self.optional and not any((root / relative).exists() for relative in self.files):
            return False
        for relative, pinned in self.files.items():
            path = root / relative
            if not path.is_file():
                raise ComponentError(f"{path}: missing (component {self.name!r} pins sha256 {pinned})")
            actual = sha256_file(path)
            if actual != pinned:
                raise ComponentError(
                    f"{path}: sha256 {actual} is not the pinned {pinned} (component {self.name!r}); "
                    "the file was changed or replaced"
                )
        return True


@dataclass(frozen=True)
class Components:
    """Every component of a model folder, and the task the gallery serves."""

    components: tuple[Component, ...]
    gallery_task: str | None = None

    def by_role(self, role: Role) -> list[Component]:
        return [c for c in self.components if c.role == role]

    def one(self, role: Role) -> Component:
        """The folder's only component of ``role``; raises ComponentError if it has none or several."""
        found = self.by_role(role)
        if len(found) != 1:
            raise ComponentError(f"expected one component of role {role!r}, found {[c.name for c in found]}")
        return found[0]

    def document(self) -> dict[str, Any]:
        return {"gallery_task": self.gallery_task, "components": [c.document() for c in self.components]}

    @classmethod
    def from_document(cls, document: Any, *, where: str) -> Components:
        """Read and check a ``components.json`` document; errors name ``where``."""
        try:
            gallery_task = document.get("gallery_task")
            components = tuple(_component(c) for c in document["components"])
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise ComponentError(
                f"{where}: expected {{gallery_task, components: [{{name, role, files, provenance}}]}} ({e!r})"
            ) from e
        bad = [c.role for c in components if c.role not in ROLES]
        if bad:
            raise ComponentError(f"{where}: role must be one of {list(ROLES)}, got {bad[0]!r}")
        names = [c.name for c in components]
        if len(set(names)) != len(names):
            raise ComponentError(f"{where}: component names must be distinct, got {names}")
        if gallery_task is not None and not isinstance(gallery_task, str):
            raise ComponentError(f"{where}: gallery_task must be a task name or null, got {gallery_task!r}")
        return cls(components, gallery_task)

    def verify(self, root: Path) -> tuple[str, ...]:
        """Every file of every component is the one pinned (:meth:`Component.verify`); returns the
        names of the optional components that are absent."""
        return tuple(c.name for c in self.components if not c.verify(root))


def _component(raw: Mapping[str, Any]) -> Component:
    files = raw["files"]
    if not isinstance(files, Mapping) or not files:
        raise ValueError(f"component {raw.get('name')!r}: files must map paths to sha256, got {files!r}")
    for relative in files:
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            raise ValueError(f"component {raw.get('name')!r}: file {relative!r} is outside the folder")
    p = raw["provenance"]
    return Component(
        name=str(raw["name"]),
        role=raw["role"],
        files={str(k): str(v) for k, v in files.items()},
        provenance=Provenance(
            str(p["source"]), str(p["licence"]), str(p["training_data"]), p.get("details", {})
        ),
        signature=raw.get("signature"),
        optional=bool(raw.get("optional", False)),
        settings=dict(raw.get("settings", {})),
    )
