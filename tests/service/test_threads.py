"""Automatic ONNX Runtime threads: every core for a request handled alone, one thread while others are."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from frontend.audio import INPUT_SHAPE
from service.model import SongModel

multi_core = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two or more cores")


def segments(n: int = 20, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 4, (n, *INPUT_SHAPE)).astype(np.float32)


@multi_core
def test_automatic_threads_open_a_one_thread_session_for_concurrent_predictions(model_repo: Path) -> None:
    auto = SongModel(model_repo, provider="cpu")
    auto.load()
    assert auto._shared_session is not None
    fixed = SongModel(model_repo, provider="cpu", intra_op_threads=2)
    fixed.load()
    assert fixed._shared_session is None
    auto.close()
    assert not auto.ready


@multi_core
def test_concurrent_predictions_equal_lone_ones(model_repo: Path) -> None:
    model = SongModel(model_repo, provider="cpu", batch_size=2)
    model.load()
    inputs = [segments(seed=i) for i in range(4)]
    alone = [model.predict(x) for x in inputs]
    together: list[dict[str, np.ndarray]] = [{} for _ in inputs]
    start = threading.Barrier(len(inputs))

    def run(i: int) -> None:
        start.wait()
        together[i] = model.predict(inputs[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for lone, shared in zip(alone, together, strict=True):
        for task in lone:
            np.testing.assert_array_equal(lone[task], shared[task])
    assert model._running == 0


@multi_core
def test_a_busy_service_gets_the_one_thread_session(model_repo: Path) -> None:
    model = SongModel(model_repo, provider="cpu", batch_size=2)
    model.load()
    real = model._shared_session
    calls: list[int] = []

    class Spy:
        def run(self, *args: object, **kwargs: object) -> object:
            calls.append(1)
            return real.run(*args, **kwargs)  # type: ignore[union-attr]

    model._shared_session = Spy()  # type: ignore[assignment]
    alone = model.predict(segments(4))
    assert calls == []
    busy = model.predict(segments(4), others_busy=lambda: True)
    assert len(calls) == 2  # one per batch of two
    for task in alone:
        np.testing.assert_array_equal(alone[task], busy[task])
