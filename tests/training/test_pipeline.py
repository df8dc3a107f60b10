"""A tiny real run: synthetic audio through prepare -> split -> train -> evaluate -> export -> ONNX parity."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from frontend.artifact import load_artifact
from frontend.audio import segments_from_audio
from tests.conftest import write_catalog
from training.backbones import get_backbone
from training.cli.main import main
from training.model import load_model, with_embedding
from training.prepare import FAILURES_FILE, read_index
from training.run_folder import RunFolder, curves_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pipeline")
    write_catalog(root / "data", songs_per_artist=5)
    (root / "data" / "en" / "ann-en" / "broken.mp3").write_bytes(b"not audio at all" * 50)
    return root


def test_prepare_skips_bad_files_and_resumes(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["prepare", "--data", str(workdir / "data"), "--cache", str(workdir / "cache"), "--jobs", "2"]
    assert main(args) == 0
    assert "30 computed, 1 failed" in capsys.readouterr().out
    assert "broken.mp3" in (workdir / "cache" / FAILURES_FILE).read_text()
    assert len(read_index(workdir / "cache")) == 30
    assert main(args) == 0
    assert "30 already cached, 0 computed" in capsys.readouterr().out


def _bn_statistics(run: Path) -> list[np.ndarray]:
    model = load_model(RunFolder(run).model)
    return [w.numpy() for w in model.non_trainable_weights]


def test_train_evaluate_export_parity(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache, run, models = workdir / "cache", workdir / "run", workdir / "models"
    folder = RunFolder(run)
    assert main(["split", "--cache", str(cache), "--out", str(workdir / "split.json"), "--seed", "0"]) == 0
    assert (
        main(
            [
                "train",
                "--cache",
                str(cache),
                "--split",
                str(workdir / "split.json"),
                "--run",
                str(run),
                "--epochs",
                "2",
                "--segments-per-song",
                "4",
            ]
        )
        == 0
    )
    written = (folder.config, folder.labels, folder.split, folder.model, folder.history)
    assert all(path.is_file() for path in written)
    assert list(json.loads(folder.labels.read_text(encoding="utf-8"))) == ["tasks"]  # the shared schema
    labels = folder.read_labels()
    assert list(labels) == ["artist", "language"] and labels["language"] == ["en", "fr"]
    # bad calibration requests are refused by name and leave the run as it was
    saved = {path: path.read_bytes() for path in (folder.model, folder.config)}
    assert main(["calibrate", "--cache", str(cache), "--run", str(run), "--segments", "0"]) == 2
    assert "n=0" in capsys.readouterr().err
    assert main(["calibrate", "--cache", str(cache), "--run", str(workdir / "no-run")]) == 2
    assert "no-run" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in saved} == saved
    # the kept weights carry BatchNorm statistics measured at inference: calibrating again changes nothing
    stats = _bn_statistics(run)
    assert main(["calibrate", "--cache", str(cache), "--run", str(run)]) == 0
    for before, after in zip(stats, _bn_statistics(run), strict=True):
        np.testing.assert_allclose(before, after, rtol=1e-4, atol=1e-6)
    n_train = json.loads((workdir / "split.json").read_text())["counts"]["train"]
    recorded = folder.read_config().bn_calibration_segments
    assert recorded == 2 * n_train  # every segment of the 7-second training songs (2 each)
    assert main(["evaluate", "--cache", str(cache), "--run", str(run)]) == 0
    assert folder.is_finished
    metrics = folder.read_metrics()
    assert metrics["tasks"]["language"]["song"]["n"] == metrics["n_songs"] > 0
    assert (folder.eval_dir / curves_file("artist")).stat().st_size > 1000
    assert main(["export", "--run", str(run), "--models", str(models), "--name", "tiny"]) == 0

    artifact = load_artifact(models / "tiny")
    assert artifact.tasks == ["artist", "language"]
    assert artifact.signature.tensors == ["embedding"]  # the trunk's features, beside the heads
    assert artifact.signature.outputs[-1].shape == (480,)
    assert [label.name for label in artifact.labels["language"]] == ["English", "French"]
    assert json.loads((models / "tiny" / "metrics.json").read_text())["export"]["parity_max_rel_diff"] <= 1e-4
    # exported with the gallery's statistics from the run's own songs: they load with the folder
    assert (
        main(
            [
                "export",
                "--run",
                str(run),
                "--models",
                str(models),
                "--name",
                "tiny-cal",
                "--calibrate-on",
                str(cache),
            ]
        )
        == 0
    )
    calibrated = load_artifact(models / "tiny-cal").centroids
    assert calibrated is not None and calibrated.ids == [label.id for label in artifact.labels["artist"]]
    assert calibrated.calibration["train_songs"] == n_train and -1 <= calibrated.threshold <= 1

    model = load_model(folder.model)
    segments, _ = segments_from_audio(workdir / "data" / "fr" / "bo-fr" / "s1.flac")
    batch = np.concatenate([segments, segments[:1] + 0.5])  # several rows: the batch axis is dynamic
    session = ort.InferenceSession(str(artifact.onnx_path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == ["N", 187, 96, 1]
    ops = [node.op_type for node in onnx.load(artifact.onnx_path).graph.node]
    assert ops.count("BatchNormalization") == 5 and "Mul" not in ops  # the trunk keeps ORT's blocked layout
    got = dict(zip(artifact.signature.output_names, session.run(None, {"mel": batch}), strict=True))
    expected = with_embedding(model, artifact.tasks, get_backbone("paper")).predict_on_batch(batch)
    for name in artifact.signature.output_names:  # relative, as export's parity (PARITY_TOLERANCE says why)
        assert np.abs(got[name] - expected[name]).max() <= 1e-4 * max(1.0, np.abs(expected[name]).max())
    trunk = keras.Model(model.inputs, model.get_layer("flatten").output).predict_on_batch(batch)
    np.testing.assert_allclose(got["embedding"], trunk, rtol=1e-4, atol=1e-4)
