"""The exported config.pbtxt describes the ONNX model it sits beside: names, types and shapes.

Triton loads ``<model>/<version>/model.onnx`` with ``config.pbtxt``; a config whose tensors
do not match the graph is refused at load time. These tests read the config with a small
protobuf-text parser and compare it with the ONNX graph and with ONNX Runtime's view of it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto

from frontend.artifact import TRITON_CONFIG_FILE, load_artifact
from tests.service.samples import make_artifact

#: Triton's data types for the ONNX element types a songid model may use.
TRITON_TYPES = {
    TensorProto.FLOAT: "TYPE_FP32",
    TensorProto.FLOAT16: "TYPE_FP16",
    TensorProto.DOUBLE: "TYPE_FP64",
    TensorProto.INT32: "TYPE_INT32",
    TensorProto.INT64: "TYPE_INT64",
}
ORT_TYPES = {"TYPE_FP32": "tensor(float)", "TYPE_FP16": "tensor(float16)", "TYPE_INT64": "tensor(int64)"}

_TOKEN = re.compile(r'(?:\s|#[^\n]*(?:\n|$))*("(?:[^"\\]|\\.)*"|[{}\[\]:,]|[-+.\w]+)')

Message = dict[str, list[Any]]  # every field repeated: Triton's "input [ {...}, {...} ]" and "input {...}"


def parse_pbtxt(text: str) -> Message:
    """Protocol-buffer text format (the subset Triton configs use) to nested dicts of lists."""
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if re.fullmatch(r"(\s|#[^\n]*)*", text[pos:]):  # only blanks and comments are left
                break
            raise ValueError(f"config.pbtxt: cannot read at offset {pos}: {text[pos : pos + 30]!r}")
        tokens.append(match.group(1))
        pos = match.end()
    message, end = _message(tokens, 0, closing=None)
    assert end == len(tokens)
    return message


def _scalar(token: str) -> Any:
    if token.startswith('"'):
        return json.loads(token)
    if re.fullmatch(r"[-+]?\d+", token):
        return int(token)
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?", token):
        return float(token)
    return token  # an enum value or true/false


def _value(tokens: list[str], i: int) -> tuple[Any, int]:
    if tokens[i] == "{":
        return _message(tokens, i + 1, closing="}")
    return _scalar(tokens[i]), i + 1


def _message(tokens: list[str], i: int, *, closing: str | None) -> tuple[Message, int]:
    fields: Message = {}
    while i < len(tokens) and tokens[i] != closing:
        name = tokens[i]
        i += 1
        if tokens[i] == ":":
            i += 1
        values = fields.setdefault(name, [])
        if tokens[i] == "[":
            i += 1
            while tokens[i] != "]":
                value, i = _value(tokens, i)
                values.append(value)
                if tokens[i] == ",":
                    i += 1
            i += 1
        else:
            value, i = _value(tokens, i)
            values.append(value)
    if closing is not None:
        if i >= len(tokens):
            raise ValueError(f"config.pbtxt: missing {closing!r}")
        i += 1
    return fields, i


def one(message: Message, field: str) -> Any:
    (value,) = message[field]
    return value


def check_config_matches_onnx(model_dir: Path, version: int = 1) -> Message:
    """Every check Triton's ONNX Runtime backend makes of a config against its model."""
    config = parse_pbtxt((model_dir / TRITON_CONFIG_FILE).read_text(encoding="utf-8"))
    onnx_path = model_dir / str(version) / "model.onnx"
    graph = onnx.load(str(onnx_path)).graph
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])

    assert one(config, "name") == model_dir.name
    assert one(config, "platform") == "onnxruntime_onnx"
    max_batch = one(config, "max_batch_size")
    assert max_batch > 0  # so every dims list leaves the batch axis out

    def compare(
        kind: str, declared: list[Message], actual: list[onnx.ValueInfoProto], seen: list[Any]
    ) -> None:
        assert [one(t, "name") for t in declared] == [v.name for v in actual] == [s.name for s in seen], kind
        for tensor, value, ort_view in zip(declared, actual, seen, strict=True):
            tensor_type = value.type.tensor_type
            assert one(tensor, "data_type") == TRITON_TYPES[tensor_type.elem_type], value.name
            assert ORT_TYPES[one(tensor, "data_type")] == ort_view.type
            batch, *rest = tensor_type.shape.dim
            assert batch.dim_param and not batch.HasField("dim_value"), f"{value.name}: batch axis is fixed"
            assert tensor["dims"] == [d.dim_value for d in rest], value.name
            assert ort_view.shape[1:] == tensor["dims"]

    compare("input", config["input"], list(graph.input), session.get_inputs())
    compare("output", config["output"], list(graph.output), session.get_outputs())

    artifact = load_artifact(model_dir, version=version)
    assert [one(t, "name") for t in config["output"]] == artifact.signature.output_names
    for tensor in config["output"]:
        name = one(tensor, "name")
        width = (
            len(artifact.labels[name]) if name in artifact.tasks else artifact.signature.outputs[-1].shape[0]
        )
        assert tensor["dims"] == [width]

    batch = np.zeros((min(max_batch, 3), *config["input"][0]["dims"]), dtype=np.float32)
    outputs = session.run(None, {one(config["input"][0], "name"): batch})
    for tensor, out in zip(config["output"], outputs, strict=True):
        assert list(out.shape) == [batch.shape[0], *tensor["dims"]]
    return config


def test_parser_reads_triton_syntax() -> None:
    text = """
    # a comment
    name: "m"  max_batch_size: 8
    input [ { name: "a" data_type: TYPE_FP32 dims: [ 1, 2 ] }, { name: "b" dims: [-1] } ]
    dynamic_batching { max_queue_delay_microseconds: 100 }
    instance_group { kind: KIND_CPU count: 2 }
    instance_group { kind: KIND_GPU gpus: [ 0 ] }
    parameters { key: "x" value: { string_value: "y \\"z\\"" } }
    """
    config = parse_pbtxt(text)
    assert one(config, "name") == "m" and one(config, "max_batch_size") == 8
    assert [one(t, "name") for t in config["input"]] == ["a", "b"]
    assert config["input"][0]["dims"] == [1, 2] and config["input"][1]["dims"] == [-1]
    assert one(one(config, "dynamic_batching"), "max_queue_delay_microseconds") == 100
    assert [one(g, "kind") for g in config["instance_group"]] == ["KIND_CPU", "KIND_GPU"]
    assert one(one(one(config, "parameters"), "value"), "string_value") == 'y "z"'
    assert parse_pbtxt("a: 1 # b: 2\n# c: 3") == {"a": [1]}  # nothing is read from comments
    with pytest.raises(ValueError, match="cannot read at offset 4"):
        parse_pbtxt("a: 1 ;")
    with pytest.raises(ValueError, match="missing '}'"):
        parse_pbtxt("dynamic_batching { max_queue_delay_microseconds: 1")


def test_the_test_fixtures_config_matches_its_model(tmp_path: Path) -> None:
    config = check_config_matches_onnx(make_artifact(tmp_path))
    assert one(config, "max_batch_size") == 64


@pytest.mark.slow
def test_an_exported_model_has_a_config_that_matches_its_onnx(tmp_path: Path) -> None:
    """Export the real network (untrained: only its graph matters here) and check the pair."""
    import keras

    from training.config import TrainConfig
    from training.export import export_run
    from training.model import build_model
    from training.run_folder import RunFolder

    labels = {"artist": ["ann", "bo", "cy", "di", "ed"], "language": ["en", "fr", "hi"]}
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    keras.utils.set_random_seed(0)
    build_model({task: len(names) for task, names in labels.items()}).save(run.model)
    run.write_config(TrainConfig())
    run.write_labels(labels)

    model_dir = export_run(run.path, tmp_path / "models", name="songid-triton", version=3)
    config = check_config_matches_onnx(model_dir, version=3)
    assert [t["dims"] for t in config["output"]] == [[5], [3], [480]]  # the heads, then the embedding
    assert config["input"][0]["dims"] == [187, 96, 1]
    assert "dynamic_batching" in config and config["instance_group"]
