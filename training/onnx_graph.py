"""ONNX graph rewrites that make the exported network faster in ONNX Runtime, outputs unchanged,
and one that exposes the trunk's features of an already exported network (:func:`expose_head_input`).

At inference a Keras BatchNormalization is an affine map ``y = a * x + b`` per channel, which
tf2onnx writes as ``Mul`` then ``Add`` with ``[1, C, 1, 1]`` constants. ONNX Runtime runs the
convolutions and pooling on the CPU in a blocked channel layout (NCHWc), but it cannot keep a
broadcast ``Add`` in that layout: every block of the trunk then converts its full-resolution
activations out of the blocked layout and back (``ReorderOutput``/``ReorderInput``).

:func:`affine_to_batchnorm` writes each such pair as one ONNX ``BatchNormalization`` (mean 0,
variance 1, epsilon 0: the same ``a * x + b``), which ONNX Runtime keeps in the blocked layout,
and where it feeds a ``MaxPool`` and every ``a`` is positive it moves it after the pool, onto a
quarter of the values. That move is exact, rounding included: ``x -> fl(fl(a * x) + b)`` is
non-decreasing for ``a > 0``, so it commutes with a maximum.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx
from onnx import helper, numpy_helper

_RANK = 4  # NCHW


def _per_channel(init: dict[str, onnx.TensorProto], name: str) -> np.ndarray | None:
    """The constant ``name`` as a ``[C]`` vector if it is a float32 ``[1, C, 1, 1]`` initializer."""
    tensor = init.get(name)
    if tensor is None or tensor.data_type != onnx.TensorProto.FLOAT:
        return None
    array = numpy_helper.to_array(tensor)
    if array.ndim != _RANK or array.shape[0] != 1 or array.shape[2:] != (1, 1):
        return None
    return np.asarray(array.reshape(-1), dtype=np.float32)


def _split_const(node: onnx.NodeProto, init: dict[str, onnx.TensorProto]) -> tuple[str, np.ndarray] | None:
    """``(data input, per-channel constant)`` of a binary ``Mul``/``Add``, in either order."""
    for data, const in ((0, 1), (1, 0)):
        vector = _per_channel(init, node.input[const])
        if vector is not None and node.input[data] not in init:
            return node.input[data], vector
    return None


def _batchnorm(name: str, x: str, params: list[str], y: str) -> onnx.NodeProto:
    """``y = scale * x + bias`` as ONNX BatchNormalization (mean 0, variance 1, epsilon 0)."""
    return helper.make_node("BatchNormalization", [x, *params], [y], name=name, epsilon=0.0)


def _ranks(model: onnx.ModelProto) -> dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model)
    values = [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]
    return {v.name: len(v.type.tensor_type.shape.dim) for v in values if v.type.tensor_type.HasField("shape")}


def affine_to_batchnorm(model: onnx.ModelProto) -> int:
    """Rewrite per-channel ``Mul`` + ``Add`` pairs of ``model`` in place (see the module doc).

    Returns:
        The number of pairs rewritten; the graph's outputs are unchanged.
    """
    graph = model.graph
    nodes = list(graph.node)
    init = {t.name: t for t in graph.initializer}
    ranks = _ranks(model)
    consumers: dict[str, list[int]] = defaultdict(list)
    for i, node in enumerate(nodes):
        for name in node.input:
            consumers[name].append(i)
    graph_outputs = {o.name for o in graph.output}

    def only_consumer(name: str, op_type: str) -> int | None:
        users = consumers.get(name, [])
        if name in graph_outputs or len(users) != 1 or nodes[users[0]].op_type != op_type:
            return None
        return users[0]

    replace: dict[int, list[onnx.NodeProto]] = {}  # index of the node whose place the new nodes take
    dropped: set[int] = set()
    for i, mul in enumerate(nodes):
        j = only_consumer(mul.output[0], "Add") if mul.op_type == "Mul" else None
        if j is None:
            continue
        add = nodes[j]
        scaled, shifted = _split_const(mul, init), _split_const(add, init)
        if scaled is None or shifted is None or shifted[0] != mul.output[0]:
            continue
        x, scale = scaled
        bias = shifted[1]
        if ranks.get(x) != _RANK or scale.shape != bias.shape:
            continue
        stem = f"{mul.name or mul.output[0]}/affine"
        params = [f"{stem}/{part}" for part in ("scale", "bias", "mean", "var")]
        zeros, ones = np.zeros_like(scale), np.ones_like(scale)
        for name, value in zip(params, (scale, bias, zeros, ones), strict=True):
            graph.initializer.append(numpy_helper.from_array(value, name))
        k = only_consumer(add.output[0], "MaxPool")
        if k is not None and len(nodes[k].output) == 1 and bool((scale > 0).all()):
            pool = onnx.NodeProto()
            pool.CopyFrom(nodes[k])
            pool.input[0], pool.output[0] = x, f"{stem}/pooled"
            replace[i] = [pool, _batchnorm(stem, pool.output[0], params, nodes[k].output[0])]
            dropped.update({j, k})
        else:
            replace[i] = [_batchnorm(stem, x, params, add.output[0])]
            dropped.add(j)

    if not replace:
        return 0
    rewritten = [new for i, node in enumerate(nodes) if i not in dropped for new in replace.get(i, [node])]
    del graph.node[:]
    graph.node.extend(rewritten)
    used = {name for node in graph.node for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    produced = {name for node in graph.node for name in node.output}
    for stale in [v for v in graph.value_info if v.name not in produced]:  # shapes of removed tensors
        graph.value_info.remove(stale)
    onnx.checker.check_model(model)
    return len(replace)


def expose_head_input(model: onnx.ModelProto, heads: list[str], name: str) -> int:
    """Add the tensor every head reads (the trunk's features) as a further graph output ``name``.

    Each head must be ``Softmax(MatMul(x, W) [+ b])`` on the same ``x`` (as tf2onnx writes a Keras
    ``Dense`` with a softmax); the new output is ``x`` through an ``Identity``, ``[N, width]``. The
    heads' outputs are unchanged: nothing is rewired.

    Returns:
        the output's width (the rows of the heads' ``W``).

    Raises:
        ValueError: a head is not of that form, or the heads read different tensors.
    """
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    init = {t.name: t for t in graph.initializer}
    read: dict[str, int] = {}
    for head in heads:
        node = producer.get(head)
        if node is None or node.op_type != "Softmax":
            raise ValueError(f"output {head!r} is not produced by a Softmax")
        node = producer.get(node.input[0])
        if node is not None and node.op_type == "Add":
            node = next((producer.get(i) for i in node.input if i not in init), None)
        if node is None or node.op_type != "MatMul" or node.input[1] not in init:
            raise ValueError(f"head {head!r} is not Softmax(MatMul(x, W) + b)")
        read[node.input[0]] = int(numpy_helper.to_array(init[node.input[1]]).shape[0])
    if len(read) != 1:
        raise ValueError(f"the heads {heads} read different tensors: {sorted(read)}")
    ((features, width),) = read.items()
    graph.node.append(helper.make_node("Identity", [features], [name], name=f"{name}_output"))
    graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["N", width]))
    return width
