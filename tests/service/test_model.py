from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from frontend.audio import FRONTEND_PARAMS, INPUT_SHAPE
from service.cancellation import CancelToken, Terminable, WorkCancelledError
from service.errors import ModelNotReadyError
from service.model import CPU, CUDA, ModelLoadError, SongModel, choose_providers
from tests.service.samples import ARTISTS, LABELS, LANGUAGES, make_artifact


def segments(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 4, size=(n, *INPUT_SHAPE)).astype(np.float32)


def test_load_reads_the_artifact_and_reports_real_providers(loaded_model: SongModel) -> None:
    assert loaded_model.ready
    assert loaded_model.name == "songid-test"
    assert loaded_model.version == 1
    assert [label.id for label in loaded_model.labels["language"]] == [x["id"] for x in LANGUAGES]
    assert loaded_model.providers == [CPU]


def test_predict_gives_one_distribution_per_segment_and_task(loaded_model: SongModel) -> None:
    probs = loaded_model.predict(segments(5))
    assert list(probs) == ["artist", "language"]
    assert probs["artist"].shape == (5, len(ARTISTS))
    assert probs["language"].shape == (5, len(LANGUAGES))
    for p in probs.values():
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_batching_does_not_change_results(model_repo: Path, loaded_model: SongModel) -> None:
    small = SongModel(model_repo, provider="cpu", batch_size=2)
    small.load()
    x = segments(7, seed=3)
    for task, p in small.predict(x).items():
        np.testing.assert_allclose(p, loaded_model.predict(x)[task], rtol=1e-5, atol=1e-6)


def test_predict_rejects_wrong_shapes(loaded_model: SongModel) -> None:
    with pytest.raises(ValueError, match="shape"):
        loaded_model.predict(np.zeros((1, 100, 96, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="shape"):
        loaded_model.predict(np.zeros((0, *INPUT_SHAPE), dtype=np.float32))


def test_cancelled_token_stops_inference(loaded_model: SongModel) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(WorkCancelledError):
        loaded_model.predict(segments(3), cancel=token)


class CancelDuringRun(CancelToken):
    """Cancels as soon as an ONNX Runtime run is registered, as a timeout mid-batch would."""

    @contextmanager
    def track(self, run: Terminable) -> Iterator[None]:
        with super().track(run):
            self.cancel()
            assert run.terminate
            yield


def test_cancellation_terminates_a_running_onnx_call(loaded_model: SongModel) -> None:
    with pytest.raises(WorkCancelledError, match="inference terminated") as info:
        loaded_model.predict(segments(3), cancel=CancelDuringRun())
    assert "terminate" in str(info.value.__cause__).lower()  # ONNX Runtime itself stopped


def test_provider_choice() -> None:
    assert choose_providers("cpu", [CUDA, CPU]) == [CPU]
    assert choose_providers("auto", [CPU]) == [CPU]
    assert choose_providers("auto", [CUDA, CPU]) == [CUDA, CPU]
    assert choose_providers("cuda", [CUDA, CPU]) == [CUDA, CPU]
    with pytest.raises(ModelLoadError, match="cuda"):
        choose_providers("cuda", [CPU])


def test_unloaded_model_is_not_ready(model_repo: Path) -> None:
    model = SongModel(model_repo)
    assert not model.ready
    assert model.providers == []
    with pytest.raises(ModelNotReadyError):
        model.predict(segments(1))
    with pytest.raises(ModelNotReadyError):
        _ = model.labels


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"nowhere.*does not exist"):
        SongModel(tmp_path / "nowhere").load()


def test_corrupt_onnx_names_the_file(tmp_path: Path) -> None:
    model_dir = make_artifact(tmp_path)
    (model_dir / "1" / "model.onnx").write_bytes(b"this is not a protobuf")
    with pytest.raises(ModelLoadError, match=r"1/model\.onnx: cannot load ONNX model"):
        SongModel(tmp_path).load()


def test_mismatched_front_end_names_the_file_and_parameter(tmp_path: Path) -> None:
    make_artifact(tmp_path, frontend={**FRONTEND_PARAMS, "n_mels": 128})
    with pytest.raises(ModelLoadError, match=r"frontend\.json.*n_mels: artifact has 128"):
        SongModel(tmp_path).load()


def test_labels_that_do_not_match_the_graph(tmp_path: Path) -> None:
    fewer = {"artist": ARTISTS[:3], "language": LANGUAGES}
    make_artifact(tmp_path, labels=fewer, onnx_labels=LABELS)
    with pytest.raises(ModelLoadError, match=r"output 'artist' has shape \['N', 4\], expected \[N, 3\]"):
        SongModel(tmp_path).load()


def test_task_without_an_output(tmp_path: Path) -> None:
    make_artifact(tmp_path, labels={**LABELS, "genre": LANGUAGES}, onnx_labels=LABELS)
    with pytest.raises(ModelLoadError, match="no output named 'genre'"):
        SongModel(tmp_path).load()


def test_wrong_input_name(tmp_path: Path) -> None:
    make_artifact(tmp_path, input_name="spectrogram")
    with pytest.raises(ModelLoadError, match="no input named 'mel'"):
        SongModel(tmp_path).load()


def test_explicit_version(tmp_path: Path) -> None:
    make_artifact(tmp_path)
    with pytest.raises(ModelLoadError, match="version 2 not found"):
        SongModel(tmp_path, version=2).load()
    model = SongModel(tmp_path, version=1)
    model.load()
    assert model.version == 1
