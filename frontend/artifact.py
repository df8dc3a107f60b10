"""The exported model folder: its layout, and a loader that refuses a mismatched one.

Layout (an NVIDIA Triton model repository entry, plus the product's metadata)::

    models/<name>/
        config.pbtxt            Triton: platform onnxruntime_onnx, inputs/outputs, dynamic batching
        <version>/model.onnx    input "mel" [N, 187, 96, 1]; one softmax output per task
        labels.json             {"tasks": {task: [{"id": ..., "name": ...}, ...]}}
        frontend.json           the FRONTEND_PARAMS the model was trained with
        training_config.json    the full training configuration
        metrics.json            measured evaluation metrics
        README.md               model card

Nothing here imports TensorFlow: the service and the training side both use it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frontend.audio import FRONTEND_PARAMS, INPUT_SHAPE
from frontend.labels import LABELS_FILE, Label, LabelsError, read_labels

ONNX_FILENAME = "model.onnx"
INPUT_NAME = "mel"
FRONTEND_FILE = "frontend.json"
TRAINING_CONFIG_FILE = "training_config.json"
METRICS_FILE = "metrics.json"
TRITON_CONFIG_FILE = "config.pbtxt"
CARD_FILE = "README.md"


class ArtifactError(RuntimeError):
    """The model folder is missing, incomplete, corrupt or made for another front end."""


@dataclass(frozen=True)
class Artifact:
    """A model folder, read and checked; ``tasks`` keeps the order of the ONNX outputs."""

    name: str
    version: int
    root: Path
    onnx_path: Path
    labels: dict[str, list[Label]]
    frontend: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def tasks(self) -> list[str]:
        return list(self.labels)


def triton_config(name: str, n_classes: dict[str, int], *, max_batch: int = 64) -> str:
    """``config.pbtxt`` for Triton's ONNX Runtime backend.

    The batch dimension is implicit (``max_batch_size``), so ``dims`` leave it out.
    """
    frames, mels, channels = INPUT_SHAPE
    outputs = ",\n".join(
        f'  {{\n    name: "{task}"\n    data_type: TYPE_FP32\n    dims: [ {n} ]\n  }}'
        for task, n in n_classes.items()
    )
    return (
        f'name: "{name}"\nplatform: "onnxruntime_onnx"\nmax_batch_size: {max_batch}\n'
        f'input [\n  {{\n    name: "{INPUT_NAME}"\n    data_type: TYPE_FP32\n'
        f"    dims: [ {frames}, {mels}, {channels} ]\n  }}\n]\n"
        f"output [\n{outputs}\n]\n"
        "dynamic_batching {\n  max_queue_delay_microseconds: 2000\n}\n"
        "instance_group [\n  {\n    kind: KIND_CPU\n    count: 1\n  }\n]\n"
    )


def _read_json(path: Path) -> Any:
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


def _read_labels(path: Path) -> dict[str, list[Label]]:
    try:
        return read_labels(path)
    except LabelsError as e:
        raise ArtifactError(str(e)) from e


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
    frontend = _read_json(frontend_path)
    if not isinstance(frontend, dict):
        raise ArtifactError(f"{frontend_path}: expected a JSON object")
    mismatches = frontend_mismatches(frontend)
    if mismatches:
        raise ArtifactError(
            f"{frontend_path}: model was made for another audio front end: " + "; ".join(mismatches)
        )
    metrics_path = model_dir / METRICS_FILE
    return Artifact(
        name=model_dir.name,
        version=version,
        root=model_dir,
        onnx_path=model_dir / str(version) / ONNX_FILENAME,
        labels=_read_labels(model_dir / LABELS_FILE),
        frontend=frontend,
        metrics=_read_json(metrics_path) if metrics_path.is_file() else {},
    )
