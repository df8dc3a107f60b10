"""songid centroids: an older export gains the embedding output on disk, heads unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from frontend.artifact import TRITON_CONFIG_FILE, load_artifact
from frontend.audio import N_MELS, SEGMENT_FRAMES
from tests.service.samples import make_artifact
from training.centroids import expose_embedding


def _run(model_path: Path, names: list[str], batch: np.ndarray) -> list[np.ndarray]:
    return ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"]).run(
        names, {"mel": batch}
    )


def test_an_export_without_the_embedding_gains_it_and_keeps_its_heads(tmp_path: Path) -> None:
    folder = make_artifact(tmp_path)
    before = load_artifact(folder)
    batch = np.random.default_rng(0).uniform(0, 3, (2, SEGMENT_FRAMES, N_MELS, 1)).astype(np.float32)
    heads_before = _run(before.onnx_path, before.tasks, batch)
    assert expose_embedding(folder) is True
    after = load_artifact(folder)
    assert after.signature.tensors == ["embedding"] and after.signature.outputs[-1].shape == (N_MELS,)
    assert "embedding" in (folder / TRITON_CONFIG_FILE).read_text()
    for old, new in zip(heads_before, _run(after.onnx_path, after.tasks, batch), strict=True):
        np.testing.assert_array_equal(old, new)
    assert expose_embedding(folder) is False  # already there: nothing written
