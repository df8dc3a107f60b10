"""Export a trained run to a model folder: the network as ONNX (tf2onnx), checked against Keras.

What the folder holds and how it is written is :mod:`frontend.artifact`'s; this module makes
the ONNX graph, its signature (one head per task of the run, then the trunk's ``embedding``),
the labels' display names, the
metrics and the model card, and hands them to :func:`frontend.artifact.write_model_folder`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pycountry

from frontend.artifact import CARD_FILE
from frontend.audio import INPUT_SHAPE
from frontend.components import Provenance
from frontend.labels import Label, LabelSet
from frontend.model_folder import write_model_folder
from frontend.signature import EMBEDDING, INPUT_NAME, Signature, TensorSpec
from training.card import model_card, with_components
from training.onnx_graph import affine_to_batchnorm
from training.run_folder import RunFolder

OPSET = 17
BATCH_DIM = "N"
# ONNX Runtime and TensorFlow sum a convolution's 576-1152 products in different orders (and with
# different vector widths on different CPUs), so float32 outputs differ by a few units of roundoff
# (6e-8) times the size of what is summed: the trunk's features reach 10-100, where the same
# weights differed by 1.03e-4 absolute on one machine and less on another. The difference is
# therefore measured relative to each output's largest magnitude (at least 1, so a head's
# probabilities are compared absolutely): 1e-4 is ~1000x the roundoff seen, while a wrong graph
# (a missed BatchNorm, a swapped axis) differs by 1e-1 or more.
PARITY_TOLERANCE = 1e-4


def display_name(task: str, label: str) -> str:
    """Human name of a label: ISO 639 codes of a language task become language names."""
    if task == "language":
        lang = pycountry.languages.get(alpha_2=label) if len(label) == 2 else None
        lang = lang or pycountry.languages.get(alpha_3=label)
        if lang is not None:
            return str(lang.name)
    return label


def to_onnx(model: Any, outputs: list[str], *, rewrite: bool = True) -> Any:
    """Convert a Keras model to an ONNX ModelProto with input ``mel`` ``[N, 187, 96, 1]``.

    ``outputs`` names the Keras model's outputs to export, in order (the signature's).

    BatchNormalization layers are written so that ONNX Runtime keeps the trunk in its blocked
    layout (:func:`training.onnx_graph.affine_to_batchnorm`; ``rewrite=False`` leaves tf2onnx's
    graph as it is, for comparison); the outputs are the same.
    """
    import tensorflow as tf  # lazy: heavy import
    import tf2onnx

    spec = (tf.TensorSpec((None, *INPUT_SHAPE), tf.float32, name=INPUT_NAME),)

    @tf.function(input_signature=spec)
    def serve(mel: tf.Tensor) -> dict[str, tf.Tensor]:
        out = model(mel, training=False)
        return {name: tf.identity(out[name], name=name) for name in outputs}

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=OPSET)
    for value in [*proto.graph.input, *proto.graph.output]:  # name the dynamic axis
        value.type.tensor_type.shape.dim[0].dim_param = BATCH_DIM
    produced = {o.name: type(o)() for o in proto.graph.output}
    for o in proto.graph.output:
        produced[o.name].CopyFrom(o)
    if sorted(produced) != sorted(outputs):
        raise RuntimeError(f"ONNX outputs {sorted(produced)} are not the ones asked for, {outputs}")
    del proto.graph.output[:]  # tf2onnx orders a dict's outputs by name; the signature's order is kept
    proto.graph.output.extend(produced[name] for name in outputs)
    if rewrite:
        affine_to_batchnorm(proto)
    return proto


def parity(model: Any, onnx_model: bytes, outputs: list[str], *, batch: int = 8, seed: int = 0) -> float:
    """Largest difference between Keras and ONNX Runtime outputs on one random batch, each output's
    relative to its largest magnitude or 1, whichever is larger (:data:`PARITY_TOLERANCE`)."""
    import onnxruntime as ort  # lazy: heavy import

    x = np.random.default_rng(seed).uniform(0, 5, size=(batch, *INPUT_SHAPE)).astype(np.float32)
    expected = model.predict_on_batch(x)
    session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
    got = session.run(outputs, {INPUT_NAME: x})
    return float(
        max(
            np.abs(want - g).max() / max(1.0, float(np.abs(want).max()))
            for want, g in ((np.asarray(expected[o]), g) for o, g in zip(outputs, got, strict=True))
        )
    )


def provenance(config: dict[str, Any]) -> Provenance:
    """Where an exported network came from: this package's training, on the data its config names."""
    notes = config.get("notes", {})
    data = notes.get("description") or notes.get("data") or "not recorded"
    return Provenance(
        source=f"`songid train`, backbone {config.get('backbone', 'paper')} (training_config.json)",
        licence="MIT (this project's)",
        training_data=str(data),
    )


def display_labels(ids: dict[str, list[str]]) -> LabelSet:
    """The run's label ids with their display names (:func:`display_name`)."""
    return {task: [Label(id=x, name=display_name(task, x)) for x in names] for task, names in ids.items()}


def export_run(run_dir: Path, models_dir: Path, *, name: str, version: int = 1) -> Path:
    """Write version ``version`` of ``models_dir/<name>/`` from a trained run; returns the model folder.

    Raises:
        RuntimeError: ONNX and Keras disagree by more than ``PARITY_TOLERANCE``.
        frontend.artifact.ArtifactError: what was written does not load.
    """
    from training.backbones import get_backbone  # lazy: heavy import (TensorFlow)
    from training.model import load_model, with_embedding

    run = RunFolder(run_dir)
    ids = run.read_labels()
    labels = display_labels(ids)
    backbone = get_backbone(run.read_config().backbone)
    model = with_embedding(load_model(run.model), list(labels), backbone)
    width = int(model.get_layer(backbone.embedding_layer).output.shape[-1])
    signature = Signature.for_heads(labels, tensors=[TensorSpec(EMBEDDING, (width,))])
    onnx_model = to_onnx(model, signature.output_names).SerializeToString()
    max_diff = parity(model, onnx_model, signature.output_names)
    out = models_dir / name
    if max_diff > PARITY_TOLERANCE:
        raise RuntimeError(f"{out}: ONNX differs from Keras by {max_diff:.2e} > {PARITY_TOLERANCE}")
    metrics = run.read_metrics() if run.is_finished else {}
    metrics["export"] = {"onnx_opset": OPSET, "parity_max_rel_diff": max_diff, "params": model.count_params()}
    config = json.loads(run.config.read_text())
    artifact = write_model_folder(
        out,
        version=version,
        onnx_model=onnx_model,
        labels=labels,
        signature=signature,
        training_config=run.config,
        metrics=metrics,
        card=model_card(name, version, ids, config, metrics),
        provenance=provenance(config),
        gallery_task=next(iter(labels)),  # the primary task: the artist, in the paper's setting
    )
    card = out / CARD_FILE
    card.write_text(with_components(card.read_text(encoding="utf-8"), artifact.components), encoding="utf-8")
    return out
