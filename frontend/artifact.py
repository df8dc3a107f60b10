"""The exported model folder: its layout, and a loader that refuses a mismatched one.

Layout (an NVIDIA Triton model repository entry, plus the product's metadata)::

    models/<name>/
        config.pbtxt            Triton: platform onnxruntime_onnx, inputs/outputs, dynamic batching
        <version>/model.onnx    the network; its inputs and outputs are signature.json's
        signature.json          the ONNX inputs and outputs (batch axis left out), each output a
                                task head (softmax over that task's labels) or another tensor
        labels.json             {"tasks": {task: [{"id": ..., "name": ...}, ...]}}, heads in order
        openset.json            optional: per head, when an answer counts as known (frontend.openset)
        frontend.json           the FRONTEND_PARAMS the model was trained with
        training_config.json    the full training configuration
        components.json         the folder's networks: role, files pinned by SHA-256, provenance,
                                and the task the gallery serves (frontend.components)
        metrics.json            measured evaluation metrics
        README.md               model card

This module owns the format and reads it (:func:`load_artifact`, for the service and every tool);
:mod:`frontend.model_folder` writes it (the exporter, the calibration commands); adding an output
is a change to the :class:`Signature` given to the writer. Nothing here imports TensorFlow or ONNX Runtime.
A folder written before ``signature.json`` existed reads as input ``mel`` and one head per task.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frontend.audio import FRONTEND_PARAMS
from frontend.centroids import CENTROIDS_FILE, ArtistCentroids, CentroidsError, parse_centroids
from frontend.components import (
    COMPONENTS_FILE,
    TASK_HEADS,
    Component,
    ComponentError,
    Components,
    Provenance,
    Role,
    sha256_file,
)
from frontend.labels import LABELS_FILE, LabelsError, LabelSet, read_labels
from frontend.openset import OPENSET_FILE, OpenSetError, OpenSetRule, parse_rules
from frontend.signature import EMBEDDING, Signature, SignatureError

ONNX_FILENAME = "model.onnx"
FRONTEND_FILE = "frontend.json"
TRAINING_CONFIG_FILE = "training_config.json"
METRICS_FILE = "metrics.json"
TRITON_CONFIG_FILE = "config.pbtxt"
CARD_FILE = "README.md"
SIGNATURE_FILE = "signature.json"
LEGACY_GALLERY_TASK = "artist"  # the head the gallery served before components.json named it
NETWORK = "multitask"  # the name of the task-heads network a folder is exported with


class ArtifactError(RuntimeError):
    """The model folder is missing, incomplete, corrupt or made for another front end."""


@dataclass(frozen=True)
class Artifact:
    """A model folder, read and checked; ``tasks`` are the signature's heads, in output order."""

    name: str
    version: int
    root: Path
    onnx_path: Path
    labels: LabelSet
    signature: Signature
    frontend: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    openset: dict[str, OpenSetRule] = field(default_factory=dict)  # task -> rule; none: closed set
    centroids: ArtistCentroids | None = None  # how songs compare with artists; None: no gallery
    gallery_task: str | None = None  # the head whose labels the gallery serves; None: no gallery
    # what the folder holds, each file pinned by SHA-256 (frontend.components)
    components: Components = field(default_factory=lambda: Components(()))
    absent: tuple[str, ...] = ()  # optional components whose files are not in the folder

    def present(self, role: Role) -> list[Component]:
        """The components of ``role`` whose files are in the folder (checked)."""
        return [c for c in self.components.by_role(role) if c.name not in self.absent]

    @property
    def tasks(self) -> list[str]:
        return self.signature.heads


def read_json(path: Path) -> Any:
    """A JSON file of the folder; ArtifactError names it when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ArtifactError(f"{path}: missing") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArtifactError(f"{path}: not readable JSON ({e})") from e


def resolve_model_dir(path: Path) -> Path:
    """Accept a model folder, or a repository folder holding exactly one model."""
    if (path / TRITON_CONFIG_FILE).is_file() or (path / LABELS_FILE).is_file():
        return path
    if not path.is_dir():
        raise ArtifactError(f"{path}: model folder does not exist")
    candidates = sorted(p for p in path.iterdir() if (p / LABELS_FILE).is_file())
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "none"
        raise ArtifactError(f"{path}: expected one model folder with {LABELS_FILE}, found {found}")
    return candidates[0]


def available_versions(model_dir: Path) -> list[int]:
    """Numbered subfolders that hold a model.onnx, ascending."""
    return sorted(
        int(p.name) for p in model_dir.iterdir() if p.name.isdigit() and (p / ONNX_FILENAME).is_file()
    )


def frontend_mismatches(params: dict[str, Any]) -> list[str]:
    """Differences between an artifact's front-end parameters and this code's, as text."""
    problems = []
    for key, expected in FRONTEND_PARAMS.items():
        got = params.get(key)
        same = (
            isinstance(got, int | float)
            and isinstance(expected, int | float)
            and math.isclose(float(got), float(expected))
        ) or got == expected
        if not same:
            problems.append(f"{key}: artifact has {got!r}, code has {expected!r}")
    problems += [f"{key}: unknown to this code" for key in params.keys() - FRONTEND_PARAMS.keys()]
    return problems


def _read_labels(path: Path) -> LabelSet:
    try:
        return read_labels(path)
    except LabelsError as e:
        raise ArtifactError(str(e)) from e


def _read_signature(model_dir: Path, labels: LabelSet) -> Signature:
    path = model_dir / SIGNATURE_FILE
    if not path.is_file():  # a folder exported before signature.json: one head per task
        return Signature.for_heads(labels)
    try:
        signature = Signature.from_document(read_json(path), where=str(path))
    except SignatureError as e:
        raise ArtifactError(str(e)) from e
    problems = signature.mismatches(labels)
    if problems:
        raise ArtifactError(f"{path}: " + "; ".join(problems))
    return signature


def load_artifact(path: Path | str, *, version: int | None = None) -> Artifact:
    """Read and check a model folder.

    Args:
        path: the model folder, or a folder holding exactly one model folder.
        version: which numbered subfolder to use; ``None`` takes the highest.

    Raises:
        ArtifactError: naming the file and what is wrong with it.
    """
    model_dir = resolve_model_dir(Path(path))
    versions = available_versions(model_dir)
    if not versions:
        raise ArtifactError(f"{model_dir}: no <version>/{ONNX_FILENAME} found")
    if version is None:
        version = versions[-1]
    elif version not in versions:
        raise ArtifactError(f"{model_dir}: version {version} not found (have {versions})")
    frontend_path = model_dir / FRONTEND_FILE
    frontend = read_json(frontend_path)
    if not isinstance(frontend, dict):
        raise ArtifactError(f"{frontend_path}: expected a JSON object")
    mismatches = frontend_mismatches(frontend)
    if mismatches:
        raise ArtifactError(
            f"{frontend_path}: model was made for another audio front end: " + "; ".join(mismatches)
        )
    labels = _read_labels(model_dir / LABELS_FILE)
    metrics_path = model_dir / METRICS_FILE
    signature = _read_signature(model_dir, labels)
    components, absent = _read_components(model_dir, version, labels)
    network = components.one(TASK_HEADS)
    centroids = (
        _read_centroids(model_dir, labels, signature, task=components.gallery_task)
        if components.gallery_task
        else None
    )
    return Artifact(
        name=model_dir.name,
        version=version,
        root=model_dir,
        onnx_path=model_dir / _network_file(network, version),
        labels=labels,
        signature=signature,
        frontend=frontend,
        metrics=read_json(metrics_path) if metrics_path.is_file() else {},
        openset=_read_openset(model_dir, signature.heads),
        centroids=centroids,
        gallery_task=components.gallery_task if centroids is not None else None,
        components=components,
        absent=absent,
    )


def _network_file(network: Component, version: int) -> str:
    """The task-heads network's ONNX file of ``version`` (``<version>/model.onnx``, Triton's layout)."""
    wanted = f"{version}/{ONNX_FILENAME}"
    if wanted not in network.files:
        raise ArtifactError(
            f"{COMPONENTS_FILE}: component {network.name!r} pins no {wanted} (has {list(network.files)})"
        )
    return wanted


def _legacy_components(model_dir: Path, version: int, labels: LabelSet) -> Components:
    """A folder written before components.json: its one network, pinned as found, unrecorded provenance."""
    relative = f"{version}/{ONNX_FILENAME}"
    unrecorded = Provenance("not recorded (exported before components.json)", "not recorded", "not recorded")
    network = Component(
        NETWORK, TASK_HEADS, {relative: sha256_file(model_dir / relative)}, unrecorded, SIGNATURE_FILE
    )
    gallery = LEGACY_GALLERY_TASK if LEGACY_GALLERY_TASK in labels else None
    return Components((network,), gallery)


def _read_components(model_dir: Path, version: int, labels: LabelSet) -> tuple[Components, tuple[str, ...]]:
    """The folder's components, every file checked, and the names of the optional ones absent."""
    path = model_dir / COMPONENTS_FILE
    if not path.is_file():
        return _legacy_components(model_dir, version, labels), ()
    try:
        components = Components.from_document(read_json(path), where=str(path))
        components.one(TASK_HEADS)
        absent = components.verify(model_dir)
    except ComponentError as e:
        raise ArtifactError(str(e)) from e
    return components, absent


def _read_centroids(
    model_dir: Path, labels: LabelSet, signature: Signature, *, task: str
) -> ArtistCentroids | None:
    path = model_dir / CENTROIDS_FILE
    if not path.is_file():
        return None
    embedding = next((o for o in signature.outputs if o.name == EMBEDDING), None)
    if embedding is None or task not in labels:
        raise ArtifactError(f"{path}: the model has no {EMBEDDING!r} output or no {task!r} head to compare")
    ids = [label.id for label in labels[task]]
    try:
        return parse_centroids(read_json(path), artist_ids=ids, dim=int(embedding.shape[-1]), where=str(path))
    except CentroidsError as e:
        raise ArtifactError(str(e)) from e


def _read_openset(model_dir: Path, heads: list[str]) -> dict[str, OpenSetRule]:
    path = model_dir / OPENSET_FILE
    if not path.is_file():
        return {}
    try:
        return parse_rules(read_json(path), heads=heads, where=str(path))
    except OpenSetError as e:
        raise ArtifactError(str(e)) from e
