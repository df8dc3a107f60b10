"""The exported graph against tf2onnx's plain conversion of the same Keras weights.

``training.export.to_onnx`` rewrites each BatchNormalization so that ONNX Runtime keeps the
trunk in its blocked layout (:mod:`training.onnx_graph`). This section converts the Keras
model again without that rewrite (in its own process, as TensorFlow is heavy) and times both
ONNX files on the track's segments, interleaved, with the largest output difference.

Also the ONNX Runtime timing helpers the int8 section shares.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.repo import run_module
from bench.stats import median
from frontend.artifact import load_artifact
from frontend.signature import INPUT_NAME


def ort_session(path: Path, intra: int) -> Any:
    """A CPU session on ``path`` with ``intra`` threads (0: ONNX Runtime's default)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = intra
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def infer_seconds(session: Any, segments: np.ndarray, batch_size: int) -> float:
    """Seconds to run ``segments`` ``(n, 187, 96, 1)`` through ``session`` in batches."""
    started = time.perf_counter()
    for i in range(0, segments.shape[0], batch_size):
        session.run(None, {INPUT_NAME: np.ascontiguousarray(segments[i : i + batch_size])})
    return time.perf_counter() - started


def interleaved(
    a: Path, b: Path, segments: np.ndarray, *, batch_size: int, intra_values: tuple[int, ...], repeats: int
) -> dict[int, tuple[list[float], list[float]]]:
    """``{intra: (seconds of a, seconds of b)}``, a and b in turn so load drifts hit both alike."""
    timings: dict[int, tuple[list[float], list[float]]] = {}
    for intra in intra_values:
        first, second = ort_session(a, intra), ort_session(b, intra)
        infer_seconds(first, segments, batch_size), infer_seconds(second, segments, batch_size)  # warm-up
        a_s, b_s = [], []
        for _ in range(repeats):
            a_s.append(infer_seconds(first, segments, batch_size))
            b_s.append(infer_seconds(second, segments, batch_size))
        timings[intra] = (a_s, b_s)
    return timings


@dataclass(frozen=True)
class GraphResult:
    timings: dict[int, tuple[list[float], list[float]]]  # intra threads -> (plain s, exported s)
    batch_size: int
    max_abs_diff: float  # between the two graphs' outputs on the track's segments
    plain_ops: list[str]
    exported_ops: list[str]

    def speedup(self, intra: int) -> float:
        plain, exported = self.timings[intra]
        return median(plain) / median(exported)


def measure(
    model_dir: Path,
    keras_path: Path,
    track_data: bytes,
    *,
    batch_size: int,
    intra_values: tuple[int, ...] = (1, 0),
    repeats: int = 7,
) -> GraphResult:
    import onnx

    from frontend.audio import segments_from_audio

    artifact = load_artifact(model_dir)
    segments, _ = segments_from_audio(io.BytesIO(track_data))
    with tempfile.TemporaryDirectory(prefix="songid-graph-") as tmp:
        plain = Path(tmp) / "plain.onnx"
        tasks = ",".join(artifact.tasks)
        run_module(["bench.graph", "--keras", str(keras_path), "--tasks", tasks, "--out", str(plain)])
        paths = (plain, artifact.onnx_path)
        timings = interleaved(
            *paths, segments, batch_size=batch_size, intra_values=intra_values, repeats=repeats
        )
        outputs = [ort_session(path, 0).run(artifact.tasks, {INPUT_NAME: segments}) for path in paths]
        plain_ops = [node.op_type for node in onnx.load(plain).graph.node]
    return GraphResult(
        timings=timings,
        batch_size=batch_size,
        max_abs_diff=float(max(np.abs(p - e).max() for p, e in zip(*outputs, strict=True))),
        plain_ops=plain_ops,
        exported_ops=[node.op_type for node in onnx.load(artifact.onnx_path).graph.node],
    )


def main(argv: list[str] | None = None) -> int:
    """Write tf2onnx's conversion of a Keras model without the BatchNormalization rewrite."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras", type=Path, required=True)
    parser.add_argument("--tasks", required=True, help="comma-separated outputs, in labels.json order")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    from training.export import to_onnx
    from training.model import load_model

    model = load_model(args.keras)
    args.out.write_bytes(to_onnx(model, args.tasks.split(","), rewrite=False).SerializeToString())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
