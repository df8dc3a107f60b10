"""Writing a model folder (the format and its reader are :mod:`frontend.artifact`'s).

Every writer reads back what it wrote with :func:`frontend.artifact.load_artifact`, so a folder
that does not load is never left behind as if it were finished.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from frontend.artifact import (
    CARD_FILE,
    FRONTEND_FILE,
    METRICS_FILE,
    NETWORK,
    ONNX_FILENAME,
    SIGNATURE_FILE,
    TRAINING_CONFIG_FILE,
    TRITON_CONFIG_FILE,
    Artifact,
    ArtifactError,
    load_artifact,
    read_json,
    resolve_model_dir,
)
from frontend.audio import FRONTEND_PARAMS
from frontend.centroids import CENTROIDS_FILE, ArtistCentroids
from frontend.components import (
    COMPONENTS_FILE,
    TASK_HEADS,
    Component,
    ComponentError,
    Components,
    Provenance,
    sha256_file,
)
from frontend.labels import LABELS_FILE, LabelSet, write_labels
from frontend.openset import OPENSET_FILE, OpenSetRule, rules_document
from frontend.signature import Signature, TensorSpec


def triton_config(name: str, signature: Signature, *, max_batch: int = 64) -> str:
    """``config.pbtxt`` for Triton's ONNX Runtime backend.

    The batch dimension is implicit (``max_batch_size``), so ``dims`` leave it out.
    """

    def tensors(specs: tuple[TensorSpec, ...]) -> str:
        return ",\n".join(
            f'  {{\n    name: "{t.name}"\n    data_type: TYPE_FP32\n    dims: [ {_dims(t)} ]\n  }}'
            for t in specs
        )

    return (
        f'name: "{name}"\nplatform: "onnxruntime_onnx"\nmax_batch_size: {max_batch}\n'
        f"input [\n{tensors(signature.inputs)}\n]\noutput [\n{tensors(signature.outputs)}\n]\n"
        "dynamic_batching {\n  max_queue_delay_microseconds: 2000\n}\n"
        "instance_group [\n  {\n    kind: KIND_CPU\n    count: 1\n  }\n]\n"
    )


def _dims(tensor: TensorSpec) -> str:
    return ", ".join(map(str, tensor.shape))


def write_components(model_dir: Path, components: Components) -> Artifact:
    """Write (or replace) the folder's ``components.json``; the folder must load with it."""
    model_dir = resolve_model_dir(model_dir)
    _write_json(model_dir / COMPONENTS_FILE, components.document())
    return load_artifact(model_dir)


def write_network(artifact: Artifact, onnx_model: bytes) -> None:
    """Replace the task-heads network's ONNX file of ``artifact``'s version and pin the new bytes."""
    artifact.onnx_path.write_bytes(onnx_model)
    relative = str(artifact.onnx_path.relative_to(artifact.root))
    network = artifact.components.one(TASK_HEADS)
    pinned = Component(
        network.name,
        network.role,
        {**network.files, relative: sha256_file(artifact.onnx_path)},
        network.provenance,
        network.signature,
    )
    others = tuple(c for c in artifact.components.components if c.name != network.name)
    document = Components((pinned, *others), artifact.components.gallery_task).document()
    _write_json(artifact.root / COMPONENTS_FILE, document)


def write_centroids(model_dir: Path, centroids: ArtistCentroids) -> Artifact:
    """Write (or replace) the folder's ``centroids.json``; the folder must load with it."""
    model_dir = resolve_model_dir(model_dir)
    _write_json(model_dir / CENTROIDS_FILE, centroids.document())
    return load_artifact(model_dir)


def write_openset(model_dir: Path, rules: dict[str, OpenSetRule]) -> Artifact:
    """Write (or replace) the folder's ``openset.json``; the folder must load with it."""
    model_dir = resolve_model_dir(model_dir)
    _write_json(model_dir / OPENSET_FILE, rules_document(rules))
    return load_artifact(model_dir)


def write_model_folder(
    out: Path,
    *,
    version: int,
    onnx_model: bytes,
    labels: LabelSet,
    signature: Signature,
    training_config: Path,
    metrics: Mapping[str, Any],
    card: str,
    provenance: Provenance,
    gallery_task: str | None,
) -> Artifact:
    """Write (or add ``version`` to) the model folder ``out``; its name is the folder's name.

    Args:
        onnx_model: the serialised ONNX graph, whose inputs and outputs are ``signature``'s.
        training_config: the run's configuration file, copied.
        provenance: where the network came from, for ``components.json`` and the card.
        gallery_task: the head whose labels the gallery serves (it needs ``centroids.json`` too).

    Raises:
        ArtifactError: ``signature`` disagrees with ``labels`` or the front end, or what was
            written does not load.
    """
    problems = signature.mismatches(labels)
    if problems:
        raise ArtifactError(f"{out}: " + "; ".join(problems))
    (out / str(version)).mkdir(parents=True, exist_ok=True)
    (out / str(version) / ONNX_FILENAME).write_bytes(onnx_model)
    write_labels(out / LABELS_FILE, labels)
    _write_json(out / SIGNATURE_FILE, signature.document())
    _write_json(out / FRONTEND_FILE, dict(FRONTEND_PARAMS))
    shutil.copyfile(training_config, out / TRAINING_CONFIG_FILE)
    _write_json(out / METRICS_FILE, dict(metrics))
    (out / TRITON_CONFIG_FILE).write_text(triton_config(out.name, signature), encoding="utf-8")
    (out / CARD_FILE).write_text(card, encoding="utf-8")
    relative = f"{version}/{ONNX_FILENAME}"
    network = Component(
        NETWORK, TASK_HEADS, {relative: sha256_file(out / relative)}, provenance, SIGNATURE_FILE
    )
    others = _kept_components(out, version)
    _write_json(out / COMPONENTS_FILE, Components((network, *others), gallery_task).document())
    return load_artifact(out, version=version)  # what was written must load


def _kept_components(model_dir: Path, version: int) -> tuple[Component, ...]:
    """The components other than the task-heads network that a folder already lists (kept on export)."""
    path = model_dir / COMPONENTS_FILE
    if not path.is_file():
        return ()
    try:
        earlier = Components.from_document(read_json(path), where=str(path))
    except ComponentError as e:
        raise ArtifactError(str(e)) from e
    return tuple(c for c in earlier.components if c.role != TASK_HEADS)


def _write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
