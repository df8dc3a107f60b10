"""The BatchNormalization rewrite keeps every output bit for bit and only touches what it may."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from frontend.audio import INPUT_SHAPE, N_MELS
from tests.service.samples import LABELS, build_onnx
from training.onnx_graph import affine_to_batchnorm, expose_head_input

C = 4


def block(
    scale: np.ndarray,
    *,
    const_first: bool = False,
    extra_use: bool = False,
    shape: tuple[int, ...] = (1, C, 1, 1),
) -> onnx.ModelProto:
    """Conv -> Relu -> Mul(scale) -> Add(bias) -> MaxPool 2x2, as tf2onnx writes a Keras block."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.normal(size=(C, 1, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(scale.astype(np.float32).reshape(shape), "a"),
        numpy_helper.from_array(rng.normal(size=scale.size).astype(np.float32).reshape(shape), "b"),
    ]
    mul_inputs = ["a", "r"] if const_first else ["r", "a"]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Mul", mul_inputs, ["m"], name="bn"),
        helper.make_node("Add", ["m", "b"], ["y"]),
        helper.make_node("MaxPool", ["y"], ["out"], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    outputs = [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, C, 4, 3])]
    if extra_use:
        outputs.append(helper.make_tensor_value_info("m", TensorProto.FLOAT, [None, C, 8, 6]))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1, 8, 6])
    graph = helper.make_graph(nodes, "block", [x], outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(model: onnx.ModelProto) -> list[np.ndarray]:
    x = np.random.default_rng(1).normal(size=(3, 1, 8, 6)).astype(np.float32)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


def ops(model: onnx.ModelProto) -> list[str]:
    return [node.op_type for node in model.graph.node]


@pytest.mark.parametrize("const_first", [False, True])
def test_positive_scale_moves_after_the_pool_with_identical_outputs(const_first: bool) -> None:
    model = block(np.array([0.5, 1.0, 2.0, 3.0]), const_first=const_first)
    expected = run(model)
    assert affine_to_batchnorm(model) == 1
    assert ops(model) == ["Conv", "Relu", "MaxPool", "BatchNormalization"]
    params = {f"bn/affine/{part}" for part in ("scale", "bias", "mean", "var")}
    assert {t.name for t in model.graph.initializer} == {"w", *params}  # the old constants are gone
    np.testing.assert_array_equal(run(model)[0], expected[0])


def test_shapes_recorded_for_removed_tensors_are_dropped() -> None:
    model = onnx.shape_inference.infer_shapes(block(np.ones(C)))
    assert {"m", "y"} <= {v.name for v in model.graph.value_info}
    affine_to_batchnorm(model)
    produced = {name for node in model.graph.node for name in node.output}
    assert {v.name for v in model.graph.value_info} <= produced


def test_a_negative_scale_keeps_the_order() -> None:
    # max(-x) is not -max(x): the affine map must stay before the pool
    model = block(np.array([0.5, -1.0, 2.0, 3.0]))
    expected = run(model)
    assert affine_to_batchnorm(model) == 1
    assert ops(model) == ["Conv", "Relu", "BatchNormalization", "MaxPool"]
    np.testing.assert_array_equal(run(model)[0], expected[0])


def test_a_product_used_elsewhere_is_left_alone() -> None:
    model = block(np.ones(C), extra_use=True)
    before = model.SerializeToString()
    assert affine_to_batchnorm(model) == 0
    assert model.SerializeToString() == before


def test_a_constant_not_per_channel_is_left_alone() -> None:
    model = block(np.ones(6), shape=(1, 1, 1, 6))  # broadcasts over the last axis, not over channels
    assert affine_to_batchnorm(model) == 0
    assert ops(model) == ["Conv", "Relu", "Mul", "Add", "MaxPool"]


def test_the_heads_input_becomes_an_output_and_the_heads_stay_bit_for_bit() -> None:
    model = build_onnx(LABELS)
    x = np.random.default_rng(1).uniform(0, 5, (3, *INPUT_SHAPE)).astype(np.float32)
    before = ort.InferenceSession(model.SerializeToString()).run(None, {"mel": x})
    assert expose_head_input(model, list(LABELS), "embedding") == N_MELS
    onnx.checker.check_model(model)
    after = ort.InferenceSession(model.SerializeToString()).run(None, {"mel": x})
    assert [o.name for o in model.graph.output] == [*LABELS, "embedding"]
    for old, new in zip(before, after, strict=False):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_allclose(after[-1], x.mean(axis=(1, 3)) - 2.0, rtol=1e-5, atol=1e-5)


def test_heads_of_another_form_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"output 'mood' is not produced by a Softmax"):
        expose_head_input(build_onnx(LABELS), ["mood"], "embedding")
