"""Application-level behaviour: startup checks, admission control and timeouts."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from frontend.audio import FRONTEND_PARAMS
from service.app import create_app
from service.cancellation import CancelToken
from service.model import ModelLoadError, OthersBusy, SongModel
from tests.service.conftest import AppFactory, make_settings, upload
from tests.service.samples import encode, make_artifact


class GatedModel(SongModel):
    """The real model, but once armed each prediction waits for a gate (or a cancellation)."""

    def __init__(self, model_dir: Path) -> None:
        super().__init__(model_dir, provider="cpu", intra_op_threads=1)
        self.armed = False
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.saw_cancel = threading.Event()

    def predict(
        self,
        segments: np.ndarray,
        *,
        cancel: CancelToken | None = None,
        others_busy: OthersBusy | None = None,
    ) -> dict[str, np.ndarray]:
        if self.armed:
            self.entered.set()
            give_up = time.monotonic() + 20
            while not self.gate.is_set() and time.monotonic() < give_up:
                if cancel is not None and cancel.cancelled:
                    self.saw_cancel.set()
                    cancel.raise_if_cancelled()
                time.sleep(0.005)
        return super().predict(segments, cancel=cancel, others_busy=others_busy)


@pytest.fixture
def gated(model_repo: Path) -> GatedModel:
    return GatedModel(model_repo)


def wait_until(condition: object, timeout: float = 5.0) -> bool:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def start(app_dir: Path) -> None:
    app = create_app(make_settings(app_dir))
    with TestClient(app):
        pytest.fail("the app must not start")


def test_startup_fails_on_a_missing_model(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"nothing-here: model folder does not exist"):
        start(tmp_path / "nothing-here")


def test_startup_fails_on_a_corrupt_model(tmp_path: Path) -> None:
    model_dir = make_artifact(tmp_path)
    (model_dir / "1" / "model.onnx").write_bytes(b"\x08\x07garbage")
    with pytest.raises(ModelLoadError, match=r"songid-test/1/model\.onnx: cannot load ONNX model"):
        start(tmp_path)


def test_startup_fails_on_corrupt_labels(tmp_path: Path) -> None:
    model_dir = make_artifact(tmp_path)
    (model_dir / "labels.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelLoadError, match=r"labels\.json: not readable JSON"):
        start(tmp_path)


def test_startup_fails_on_a_front_end_mismatch(tmp_path: Path) -> None:
    make_artifact(tmp_path, frontend={**FRONTEND_PARAMS, "hop_length": 160})
    with pytest.raises(ModelLoadError, match=r"frontend\.json.*hop_length: artifact has 160, code has 256"):
        start(tmp_path)


def test_overload_is_refused_at_once_with_retry_after(
    make_client: AppFactory, gated: GatedModel, wav_bytes: bytes
) -> None:
    client = make_client(model=gated, max_concurrent_requests=1, max_queued_requests=0, retry_after_s=5)
    gated.armed = True
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(upload, client, wav_bytes)
        assert gated.entered.wait(10)
        started = time.perf_counter()
        refused = upload(client, wav_bytes)
        assert time.perf_counter() - started < 2
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        assert refused.json()["error"]["code"] == "overloaded"
        assert client.get("/readyz").status_code == 200  # probes are not admission-controlled
        gated.gate.set()
        assert first.result(timeout=30).status_code == 200
    gated.armed = False
    assert upload(client, wav_bytes).status_code == 200
    assert 'songid_predictions_rejected_total{reason="overloaded"} 1.0' in client.get("/metrics").text


def test_concurrent_requests_within_the_limit_all_succeed(make_client: AppFactory, gated: GatedModel) -> None:
    client = make_client(model=gated, max_concurrent_requests=2)
    gated.armed = True
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(upload, client, encode("wav", freq=f)) for f in (200.0, 900.0)]
        assert wait_until(lambda: client.app.state.admission.limiter.in_use == 2)  # type: ignore[attr-defined]
        gated.gate.set()
        assert [f.result(timeout=30).status_code for f in futures] == [200, 200]


def test_timeout_is_504_and_the_work_is_cancelled(
    make_client: AppFactory, gated: GatedModel, wav_bytes: bytes
) -> None:
    client = make_client(model=gated, request_timeout_s=0.5, max_concurrent_requests=1)
    limiter = client.app.state.admission.limiter  # type: ignore[attr-defined]
    gated.armed = True
    started = time.perf_counter()
    response = upload(client, wav_bytes)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"
    assert time.perf_counter() - started < 5
    assert gated.saw_cancel.wait(5), "the worker was not told to stop"
    assert wait_until(lambda: limiter.in_use == 0), "the slot was not freed after the work stopped"
    gated.armed = False
    assert upload(client, wav_bytes).status_code == 200
