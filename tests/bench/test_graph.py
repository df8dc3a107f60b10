"""The graph comparison times two ONNX files in turn and reports the ratio it measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.graph import GraphResult, interleaved
from bench.report_inprocess import graph_section
from frontend.artifact import load_artifact
from frontend.audio import INPUT_SHAPE
from tests.service.samples import make_artifact


def test_interleaved_times_both_files_for_every_thread_setting(tmp_path: Path) -> None:
    onnx_path = load_artifact(make_artifact(tmp_path)).onnx_path
    segments = np.zeros((3, *INPUT_SHAPE), dtype=np.float32)
    timings = interleaved(onnx_path, onnx_path, segments, batch_size=2, intra_values=(1, 0), repeats=3)
    assert set(timings) == {1, 0}
    for a, b in timings.values():
        assert len(a) == len(b) == 3 and min(a + b) > 0


def test_the_report_gives_the_measured_speed_up_and_both_graphs() -> None:
    plain = ["Reshape", "Conv", "Relu", "Mul", "Add", "MaxPool", "Conv", "Relu", "Mul", "Add", "MaxPool"]
    exported = ["Reshape", "Conv", "Relu", "MaxPool", "BatchNormalization", "Conv", "Relu", "MaxPool"]
    result = GraphResult({1: ([0.6, 0.5, 0.7], [0.4, 0.3, 0.5])}, 8, 0.0, plain, exported)

    class Results:
        graph = result

    text = "\n".join(graph_section(Results))  # type: ignore[arg-type]
    assert "| intra 1 | 600 | 400 | 1.50 × |" in text
    assert "plain: Conv → Relu → Mul → Add → MaxPool;" in text
    assert "exported: Conv → Relu → MaxPool → BatchNormalization." in text
