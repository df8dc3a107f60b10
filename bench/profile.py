"""Where the time goes: TensorFlow's profiler over the training loop, ONNX Runtime's over inference."""

from __future__ import annotations

import io
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.trainbench import run_in_child

if TYPE_CHECKING:
    from bench.perf_options import Options

_LAYER = re.compile(r"/(conv|bn|pool|dropout|flatten|artist|language)\d*(?:_\d+)?/")


@dataclass(frozen=True)
class Share:
    name: str
    ms: float
    share: float  # of all op time


@dataclass(frozen=True)
class TrainProfile:
    steps: int
    categories: list[Share]
    top_ops: list[Share]


def _category(op_name: str) -> str:
    backward = "gradient_tape" in op_name or op_name.endswith(("Grad", "BackpropFilter", "BackpropInput"))
    match = _LAYER.search(op_name)
    layer = match.group(1) if match else None
    names = {
        "conv": "Conv2D (+bias, ReLU)",
        "bn": "BatchNormalization",
        "pool": "MaxPooling2D",
        "dropout": "Dropout",
        "flatten": "Flatten + Dense heads",
        "artist": "Flatten + Dense heads",
        "language": "Flatten + Dense heads",
    }
    if layer is None:
        return "optimizer, loss, metrics, other"
    return f"{names[layer]}, {'backward' if backward else 'forward'}"


def shares(times: Counter[str], top: int | None = None) -> list[Share]:
    total = sum(times.values()) or 1.0
    return [Share(name, ms, ms / total) for name, ms in times.most_common(top)]


def parse_tf_profile(log_dir: Path, steps: int) -> TrainProfile:
    """Op time on TensorFlow's compute threads, by layer kind and by op type."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    by_category: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    for path in log_dir.rglob("*.xplane.pb"):
        space = xplane_pb2.XSpace()
        space.ParseFromString(path.read_bytes())
        for plane in space.planes:
            if plane.name != "/host:CPU":
                continue
            for line in plane.lines:
                for event in line.events:
                    name = plane.event_metadata[event.metadata_id].name
                    if ":" not in name or "/" not in name:  # op events are "scope/name:OpType"
                        continue
                    ms = event.duration_ps / 1e9
                    op_path, op_type = name.rsplit(":", 1)
                    by_type[op_type] += ms
                    by_category[_category(op_path)] += ms
    return TrainProfile(steps=steps, categories=shares(by_category), top_ops=shares(by_type, 12))


def profile_training(options: Options, *, seconds: int) -> TrainProfile:
    """Profile the default training loop (``baseline`` variant) after a warm-up epoch."""
    steps = max(4, seconds // 2)  # about 1.5 s per step for the default settings
    with tempfile.TemporaryDirectory(prefix="songid-tfprof-") as tmp:
        run_in_child(
            "baseline",
            cache_dir=options.cache_dir,
            split_file=options.split_file,
            steps=steps,
            epochs=2,
            json_path=Path(tmp) / "speed.json",
            profile_dir=Path(tmp),
        )
        return parse_tf_profile(Path(tmp), steps)


def profile_inference(model_dir: Path, data: bytes, *, intra: int = 0, batch_size: int = 32) -> list[Share]:
    """ONNX Runtime's per-node profile of the song's segments, by operator type."""
    import onnxruntime as ort

    from frontend.artifact import load_artifact
    from frontend.audio import segments_from_audio
    from frontend.signature import INPUT_NAME

    artifact = load_artifact(model_dir)
    segments, _ = segments_from_audio(io.BytesIO(data))
    with tempfile.TemporaryDirectory(prefix="songid-ortprof-") as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "ort")
        session = ort.InferenceSession(str(artifact.onnx_path), options, providers=["CPUExecutionProvider"])
        warm = np.ascontiguousarray(segments[:batch_size])
        session.run(None, {INPUT_NAME: warm})
        for start in range(0, segments.shape[0], batch_size):
            session.run(None, {INPUT_NAME: np.ascontiguousarray(segments[start : start + batch_size])})
        trace = json.loads(Path(session.end_profiling()).read_text())
    by_op: Counter[str] = Counter()
    for event in trace:
        if event.get("cat") == "Node" and event.get("name", "").endswith("_kernel_time"):
            by_op[event.get("args", {}).get("op_name", "?")] += event["dur"] / 1000
    return shares(by_op, 10)
