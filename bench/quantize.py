"""An int8 copy of the served model (ONNX Runtime static quantization, calibrated on cached mels),
its speed against float32 and the change in test-split AUC.

The copy is a model folder outside ``models/``: version 1 is the float32 model, version 2 the
int8 one, so the service serves either (``SONGID_MODEL_DIR=<copy>``, ``SONGID_MODEL_VERSION``).
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.graph import interleaved, ort_session
from bench.stats import median
from frontend.artifact import load_artifact
from frontend.signature import INPUT_NAME

CALIBRATION_SEGMENTS = 512
CALIBRATION_BATCH = 32


@dataclass(frozen=True)
class QuantResult:
    folder: Path
    timings: dict[int, tuple[list[float], list[float]]]  # intra threads -> (float32 s, int8 s)
    batch_size: int
    auc: dict[str, dict[str, dict[str, float | None]]]  # task -> level -> {"fp32", "int8"}
    n_test_songs: int
    calibration_segments: int
    int8_bytes: int
    fp32_bytes: int

    def speedup(self, intra: int) -> float:
        fp32, int8 = self.timings[intra]
        return median(fp32) / median(int8)


def _songs(cache_dir: Path, split_file: Path, split: str) -> list[Any]:
    from training.prepare import read_index
    from training.split import read_split

    assignment = read_split(split_file)
    return [s for s in read_index(cache_dir) if assignment.get(s.song_id) == split]


def _calibration(cache_dir: Path, split_file: Path, space: dict[str, list[str]]) -> Iterator[np.ndarray]:
    from frontend.audio import SEGMENT_FRAMES
    from training.dataset import SongMels, evenly_spaced

    mels = SongMels.load(cache_dir, _songs(cache_dir, split_file, "train"), space)
    s, t = evenly_spaced(mels, hop_frames=SEGMENT_FRAMES, per_song=4)
    pick = np.random.default_rng(0).permutation(len(s))[:CALIBRATION_SEGMENTS]
    for i in range(0, len(pick), CALIBRATION_BATCH):
        chunk = pick[i : i + CALIBRATION_BATCH]
        yield mels.gather(s[chunk], t[chunk])


def make_int8(model_dir: Path, cache_dir: Path, split_file: Path, out_root: Path) -> tuple[Path, int]:
    """Write ``out_root/<name>/`` (1: float32, 2: int8); returns the folder and calibration size."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    artifact = load_artifact(model_dir)
    space = {task: [label.id for label in labels] for task, labels in artifact.labels.items()}
    folder = out_root / artifact.name
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "1").mkdir(parents=True)
    (folder / "2").mkdir()
    for item in artifact.root.iterdir():
        if item.is_file():
            shutil.copy2(item, folder / item.name)
    shutil.copy2(artifact.onnx_path, folder / "1" / "model.onnx")
    batches = list(_calibration(cache_dir, split_file, space))

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {INPUT_NAME: batch}

    with tempfile.TemporaryDirectory(prefix="songid-quant-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(artifact.onnx_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(folder / "2" / "model.onnx"),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
    return folder, sum(b.shape[0] for b in batches)


def measure(
    model_dir: Path,
    cache_dir: Path,
    split_file: Path,
    out_root: Path,
    track_data: bytes,
    *,
    batch_size: int,
    intra_values: tuple[int, ...] = (1, 0),
    repeats: int = 7,
) -> QuantResult:
    from frontend.audio import segments_from_audio
    from training.dataset import SongMels
    from training.evaluate import evaluate_predictor

    folder, calibrated = make_int8(model_dir, cache_dir, split_file, out_root)
    fp32_path, int8_path = folder / "1" / "model.onnx", folder / "2" / "model.onnx"
    segments, _ = segments_from_audio(io.BytesIO(track_data))
    timings = interleaved(
        fp32_path, int8_path, segments, batch_size=batch_size, intra_values=intra_values, repeats=repeats
    )

    artifact = load_artifact(folder, version=1)
    space = {task: [label.id for label in labels] for task, labels in artifact.labels.items()}
    tasks = list(space)
    test_songs = _songs(cache_dir, split_file, "test")
    mels = SongMels.load(cache_dir, test_songs, space)
    auc: dict[str, dict[str, dict[str, float | None]]] = {t: {"segment": {}, "song": {}} for t in tasks}
    for name, session in (("fp32", ort_session(fp32_path, 0)), ("int8", ort_session(int8_path, 0))):

        def predict(x: np.ndarray, session: Any = session) -> dict[str, np.ndarray]:
            return dict(zip(tasks, session.run(tasks, {INPUT_NAME: x}), strict=True))

        metrics, _ = evaluate_predictor(predict, mels, space, batch_size=64)
        for task in tasks:
            for level in ("segment", "song"):
                auc[task][level][name] = metrics[task][level]["auc_roc"]
    return QuantResult(
        folder=folder,
        timings=timings,
        batch_size=batch_size,
        auc=auc,
        n_test_songs=len(test_songs),
        calibration_segments=calibrated,
        int8_bytes=int8_path.stat().st_size,
        fp32_bytes=fp32_path.stat().st_size,
    )
