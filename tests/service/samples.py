"""Test material made on the fly: a tiny real model folder and encoded audio files."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import soundfile as sf
from onnx import TensorProto, helper, numpy_helper

from frontend.audio import FRONTEND_PARAMS, N_MELS, SEGMENT_FRAMES
from frontend.centroids import CENTROIDS_FILE, ArtistCentroids
from frontend.labels import Label
from frontend.model_folder import triton_config
from frontend.signature import EMBEDDING as EMBEDDING_NAME
from frontend.signature import INPUT_NAME, Signature, TensorSpec

ARTISTS = [
    {"id": "artist-a", "name": "Ada Lovelace Quartet"},
    {"id": "artist-b", "name": "Bach to Basics"},
    {"id": "artist-c", "name": "Cello Fellow"},
    {"id": "artist-d", "name": "Drum & Base"},
]
LANGUAGES = [
    {"id": "en", "name": "English"},
    {"id": "hi", "name": "Hindi"},
    {"id": "bn", "name": "Bengali"},
]
LABELS: dict[str, list[dict[str, str]]] = {"artist": ARTISTS, "language": LANGUAGES}

#: format name -> (soundfile format, subtype, sample rate)
FORMATS: dict[str, tuple[str, str, int]] = {
    "wav": ("WAV", "PCM_16", 44_100),
    "flac": ("FLAC", "PCM_16", 44_100),
    "ogg": ("OGG", "VORBIS", 44_100),
    "opus": ("OGG", "OPUS", 48_000),
    "mp3": ("MP3", "MPEG_LAYER_III", 44_100),
}


EMBEDDING = TensorSpec(EMBEDDING_NAME, (N_MELS,))  # an output that is not a task head


def build_onnx(
    labels: dict[str, list[dict[str, str]]],
    *,
    seed: int = 7,
    input_name: str = INPUT_NAME,
    embedding: bool = False,
):
    """mel [N,187,96,1] -> mean over time -> (x - 2) @ W_task + b_task -> softmax, one output per task.

    ``embedding`` adds the centred time-mean ``[N, 96]`` as a further output, after the heads.
    """
    rng = np.random.default_rng(seed)
    nodes = [
        helper.make_node("ReduceMean", [input_name], ["pooled"], axes=[1, 3], keepdims=0),
        helper.make_node("Sub", ["pooled", "centre"], ["centred"]),
    ]
    inits = [numpy_helper.from_array(np.array(2.0, dtype=np.float32), "centre")]
    outputs = []
    for task, items in labels.items():
        weights = (0.8 * rng.standard_normal((N_MELS, len(items)))).astype(np.float32)
        bias = (0.1 * rng.standard_normal(len(items))).astype(np.float32)
        inits += [numpy_helper.from_array(weights, f"{task}_w"), numpy_helper.from_array(bias, f"{task}_b")]
        nodes += [
            helper.make_node("MatMul", ["centred", f"{task}_w"], [f"{task}_logits0"]),
            helper.make_node("Add", [f"{task}_logits0", f"{task}_b"], [f"{task}_logits"]),
            helper.make_node("Softmax", [f"{task}_logits"], [task], axis=-1),
        ]
        outputs.append(helper.make_tensor_value_info(task, TensorProto.FLOAT, ["N", len(items)]))
    if embedding:
        nodes.append(helper.make_node("Identity", ["centred"], [EMBEDDING.name]))
        outputs.append(helper.make_tensor_value_info(EMBEDDING.name, TensorProto.FLOAT, ["N", N_MELS]))
    graph = helper.make_graph(
        nodes,
        "songid_test",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", SEGMENT_FRAMES, N_MELS, 1])],
        outputs,
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def make_artifact(
    repo: Path,
    *,
    name: str = "songid-test",
    version: int = 1,
    labels: dict[str, list[dict[str, str]]] | None = None,
    onnx_labels: dict[str, list[dict[str, str]]] | None = None,
    frontend: dict[str, Any] | None = None,
    input_name: str = INPUT_NAME,
    embedding: bool = False,
    centroids: bool = False,
) -> Path:
    """Write ``repo/<name>/`` as the exporter does; returns the model folder.

    ``onnx_labels`` builds the graph for other labels than labels.json lists (a mismatch).
    ``embedding`` adds an :data:`EMBEDDING` output and the ``signature.json`` that declares it;
    ``centroids`` (with it) a ``centroids.json``: each trained artist a random direction, so an
    enrolled artist's own songs are far closer to it than to any trained one.
    """
    labels = LABELS if labels is None else labels
    model_dir = repo / name
    (model_dir / str(version)).mkdir(parents=True)
    onnx.save(
        build_onnx(onnx_labels or labels, input_name=input_name, embedding=embedding),
        str(model_dir / str(version) / "model.onnx"),
    )
    signature = Signature.for_heads(
        {t: [Label(**x) for x in v] for t, v in labels.items()}, tensors=[EMBEDDING] if embedding else []
    )
    if embedding:
        (model_dir / "signature.json").write_text(json.dumps(signature.document()), encoding="utf-8")
    (model_dir / "labels.json").write_text(json.dumps({"tasks": labels}), encoding="utf-8")
    (model_dir / "frontend.json").write_text(
        json.dumps(dict(FRONTEND_PARAMS) if frontend is None else frontend), encoding="utf-8"
    )
    (model_dir / "metrics.json").write_text(json.dumps({"artist": {"accuracy": 0.5}}), encoding="utf-8")
    (model_dir / "config.pbtxt").write_text(triton_config(name, signature), encoding="utf-8")
    (model_dir / "README.md").write_text("# songid-test\n\nA tiny model for tests.\n", encoding="utf-8")
    if centroids:
        ids = [x["id"] for x in labels["artist"]]
        means = np.random.default_rng(0).standard_normal((len(ids), N_MELS))
        document = ArtistCentroids(
            np.zeros(N_MELS), ids, means, [3] * len(ids), CENTROID_THRESHOLD
        ).document()
        (model_dir / CENTROIDS_FILE).write_text(json.dumps(document), encoding="utf-8")
    return model_dir


CENTROID_THRESHOLD = 0.9  # the sample centroids' cosine threshold


NOTE_S = 0.25  # a new note four times a second
INTERVALS = (1.0, 1.25, 1.5, 2.0, 1.5, 1.25)  # the melody's notes, as ratios to ``freq``


def melody(seconds: float, rate: int, *, channels: int = 1, freq: float = 440.0, seed: int = 0) -> np.ndarray:
    """Music-like test audio: harmonic notes with a decaying envelope and a little noise.

    A steady tone would be judged to hold no evidence (:mod:`frontend.evidence`); this changes
    pitch and level like music. Shape ``(frames, channels)``, float32 in [-0.5, 0.5].
    """
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    pitch = freq * np.asarray(INTERVALS)[(t / NOTE_S).astype(int) % len(INTERVALS)]
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    envelope = np.exp(-4.0 * (t % NOTE_S))
    notes = sum(np.sin(k * phase) / k for k in (1, 2, 3))
    mono = 0.2 * envelope * notes + 0.003 * rng.standard_normal(t.shape[0])
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


def encode(
    fmt: str = "wav",
    *,
    seconds: float = 4.0,
    rate: int | None = None,
    channels: int = 1,
    subtype: str | None = None,
    freq: float = 440.0,
) -> bytes:
    """Encoded audio bytes in one of :data:`FORMATS` (or a custom subtype/rate)."""
    sf_format, default_subtype, default_rate = FORMATS[fmt]
    rate = default_rate if rate is None else rate
    buffer = io.BytesIO()
    sf.write(
        buffer,
        melody(seconds, rate, channels=channels, freq=freq),
        rate,
        format=sf_format,
        subtype=subtype or default_subtype,
    )
    return buffer.getvalue()
