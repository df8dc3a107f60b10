"""Export a trained run to a model folder: ONNX (tf2onnx) plus the product's metadata.

The folder is an NVIDIA Triton model repository entry (``config.pbtxt`` and
``<version>/model.onnx``) and carries labels, front-end parameters, training
config, metrics and a model card; see :mod:`frontend.artifact`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pycountry

from frontend import artifact as art
from frontend.audio import FRONTEND_PARAMS, INPUT_SHAPE
from training.card import model_card
from training.onnx_graph import affine_to_batchnorm
from training.run_folder import RunFolder

OPSET = 17
BATCH_DIM = "N"
PARITY_TOLERANCE = 1e-4


def display_name(task: str, label: str) -> str:
    """Human name of a label: ISO 639 codes of a language task become language names."""
    if task == "language":
        lang = pycountry.languages.get(alpha_2=label) if len(label) == 2 else None
        lang = lang or pycountry.languages.get(alpha_3=label)
        if lang is not None:
            return str(lang.name)
    return label


def to_onnx(model: Any, tasks: list[str], *, rewrite: bool = True) -> Any:
    """Convert a Keras model to an ONNX ModelProto with input ``mel`` ``[N, 187, 96, 1]``.

    BatchNormalization layers are written so that ONNX Runtime keeps the trunk in its blocked
    layout (:func:`training.onnx_graph.affine_to_batchnorm`; ``rewrite=False`` leaves tf2onnx's
    graph as it is, for comparison); the outputs are the same.
    """
    import tensorflow as tf  # lazy: heavy import
    import tf2onnx

    spec = (tf.TensorSpec((None, *INPUT_SHAPE), tf.float32, name=art.INPUT_NAME),)

    @tf.function(input_signature=spec)
    def serve(mel: tf.Tensor) -> dict[str, tf.Tensor]:
        out = model(mel, training=False)
        return {t: tf.identity(out[t], name=t) for t in tasks}

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=OPSET)
    for value in [*proto.graph.input, *proto.graph.output]:  # name the dynamic axis
        value.type.tensor_type.shape.dim[0].dim_param = BATCH_DIM
    output_names = [o.name for o in proto.graph.output]
    if output_names != tasks:
        raise RuntimeError(f"ONNX outputs {output_names} do not match tasks {tasks}")
    if rewrite:
        affine_to_batchnorm(proto)
    return proto


def parity(model: Any, onnx_path: Path, tasks: list[str], *, batch: int = 8, seed: int = 0) -> float:
    """Max absolute difference between Keras and ONNX Runtime outputs on one random batch."""
    import onnxruntime as ort  # lazy: heavy import

    x = np.random.default_rng(seed).uniform(0, 5, size=(batch, *INPUT_SHAPE)).astype(np.float32)
    expected = model.predict_on_batch(x)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(tasks, {art.INPUT_NAME: x})
    return float(max(np.abs(np.asarray(expected[t]) - g).max() for t, g in zip(tasks, got, strict=True)))


def export_run(run_dir: Path, models_dir: Path, *, name: str, version: int = 1) -> Path:
    """Write ``models_dir/<name>/`` from a trained run; returns the model folder.

    Raises:
        RuntimeError: ONNX and Keras disagree by more than ``PARITY_TOLERANCE``.
    """
    from training.model import load_model  # lazy: heavy import (TensorFlow)

    run = RunFolder(run_dir)
    labels = run.read_labels()
    tasks = list(labels)
    model = load_model(run.model)
    out = models_dir / name
    (out / str(version)).mkdir(parents=True, exist_ok=True)
    onnx_path = out / str(version) / art.ONNX_FILENAME
    onnx_path.write_bytes(to_onnx(model, tasks).SerializeToString())
    max_diff = parity(model, onnx_path, tasks)
    if max_diff > PARITY_TOLERANCE:
        raise RuntimeError(f"{onnx_path}: ONNX differs from Keras by {max_diff:.2e} > {PARITY_TOLERANCE}")

    label_doc = {
        "tasks": {t: [{"id": x, "name": display_name(t, x)} for x in names] for t, names in labels.items()}
    }
    (out / art.LABELS_FILE).write_text(json.dumps(label_doc, indent=1, ensure_ascii=False), encoding="utf-8")
    (out / art.FRONTEND_FILE).write_text(json.dumps(FRONTEND_PARAMS, indent=1), encoding="utf-8")
    shutil.copyfile(run.config, out / art.TRAINING_CONFIG_FILE)
    metrics = run.read_metrics() if run.is_finished else {}
    metrics["export"] = {"onnx_opset": OPSET, "parity_max_abs_diff": max_diff, "params": model.count_params()}
    (out / art.METRICS_FILE).write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    (out / art.TRITON_CONFIG_FILE).write_text(
        art.triton_config(name, {t: len(v) for t, v in labels.items()}), encoding="utf-8"
    )
    config = json.loads(run.config.read_text())
    (out / art.CARD_FILE).write_text(model_card(name, version, labels, config, metrics), encoding="utf-8")
    art.load_artifact(out, version=version)  # what we wrote must load
    return out
