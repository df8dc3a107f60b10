"""The signature of an exported network: its ONNX inputs and outputs, and what each output is.

Stored as ``signature.json`` in the model folder (see :mod:`frontend.artifact`)::

    {"inputs":  [{"name": "mel", "shape": [187, 96, 1], "datatype": "FP32"}],
     "outputs": [{"name": "artist", "shape": [34], "datatype": "FP32", "kind": "head"}, ...]}

Shapes leave out the batch axis. A ``head`` is a softmax over one task's labels (labels.json
names them, in the same order); a ``tensor`` is any other output, unlabelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from frontend.audio import INPUT_SHAPE
from frontend.labels import LABELS_FILE, LabelSet

INPUT_NAME: Final = "mel"
EMBEDDING: Final = "embedding"  # the trunk's features, shared by every head (an output of kind tensor)
HEAD: Final = "head"
TENSOR: Final = "tensor"
Kind = Literal["head", "tensor"]


class SignatureError(ValueError):
    """A signature document that does not follow the schema; the message names its source."""


@dataclass(frozen=True)
class TensorSpec:
    """One ONNX input or output: float32, ``[N, *shape]`` (the batch axis is left out)."""

    name: str
    shape: tuple[int, ...]
    kind: Kind = "tensor"  # outputs only: a task head or another tensor


@dataclass(frozen=True)
class Signature:
    """What the network takes and gives; heads are labelled in labels.json, tensors are not."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @classmethod
    def for_heads(cls, labels: LabelSet, *, tensors: Sequence[TensorSpec] = ()) -> Signature:
        """Input ``mel``, one head per task (in ``labels`` order), then ``tensors``."""
        heads = tuple(TensorSpec(task, (len(items),), HEAD) for task, items in labels.items())
        return cls((TensorSpec(INPUT_NAME, INPUT_SHAPE),), heads + tuple(tensors))

    @property
    def heads(self) -> list[str]:
        return [o.name for o in self.outputs if o.kind == HEAD]

    @property
    def tensors(self) -> list[str]:
        return [o.name for o in self.outputs if o.kind == TENSOR]

    @property
    def output_names(self) -> list[str]:
        return [o.name for o in self.outputs]

    def document(self) -> dict[str, Any]:
        def spec(t: TensorSpec, *, kind: bool) -> dict[str, Any]:
            return {"name": t.name, "shape": list(t.shape), "datatype": "FP32"} | (
                {"kind": t.kind} if kind else {}
            )

        return {
            "inputs": [spec(t, kind=False) for t in self.inputs],
            "outputs": [spec(t, kind=True) for t in self.outputs],
        }

    @classmethod
    def from_document(cls, document: Any, *, where: str) -> Signature:
        try:
            inputs = tuple(
                TensorSpec(str(t["name"]), tuple(int(d) for d in t["shape"])) for t in document["inputs"]
            )
            outputs = tuple(
                TensorSpec(str(t["name"]), tuple(int(d) for d in t["shape"]), t["kind"])
                for t in document["outputs"]
            )
        except (KeyError, TypeError, ValueError) as e:
            raise SignatureError(
                f"{where}: expected {{inputs: [{{name, shape}}], outputs: [{{name, shape, kind}}]}} ({e!r})"
            ) from e
        bad = [t.kind for t in outputs if t.kind not in (HEAD, TENSOR)]
        if bad:
            raise SignatureError(f"{where}: output kind must be {HEAD!r} or {TENSOR!r}, got {bad[0]!r}")
        return cls(inputs, outputs)

    def mismatches(self, labels: LabelSet) -> list[str]:
        """Where this signature disagrees with labels.json and the front end, as text."""
        problems = []
        if [t.name for t in self.inputs] != [INPUT_NAME] or self.inputs[0].shape != INPUT_SHAPE:
            problems.append(
                f"inputs must be {INPUT_NAME!r} {list(INPUT_SHAPE)}, got {self.document()['inputs']}"
            )
        if self.heads != list(labels):
            problems.append(f"heads {self.heads} are not the tasks of {LABELS_FILE} {list(labels)}")
        widths = {o.name: o.shape for o in self.outputs}
        problems += [
            f"head {task!r} has shape {list(widths[task])} but {LABELS_FILE} lists {len(items)} labels"
            for task, items in labels.items()
            if task in widths and widths[task] != (len(items),)
        ]
        return problems

    def graph_mismatches(
        self, inputs: Mapping[str, Sequence[Any]], outputs: Mapping[str, Sequence[Any]]
    ) -> list[str]:
        """Where an ONNX graph (name -> shape with the batch axis, ``None``/str = dynamic) differs."""
        problems = []
        for side, specs, graph in (("input", self.inputs, inputs), ("output", self.outputs, outputs)):
            for spec in specs:
                if spec.name not in graph:
                    problems.append(f"no {side} named {spec.name!r} (has {sorted(graph)})")
                    continue
                dims = [d if isinstance(d, int) else None for d in graph[spec.name]]
                if len(dims) != 1 + len(spec.shape) or any(
                    got is not None and got != want for got, want in zip(dims[1:], spec.shape, strict=True)
                ):
                    wanted = ", ".join(map(str, spec.shape))
                    problems.append(
                        f"{side} {spec.name!r} has shape {list(graph[spec.name])}, expected [N, {wanted}]"
                    )
        return problems
