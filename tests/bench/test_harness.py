"""A tiny run of the harness with the test suite's small model: it measures and reports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench import perf
from bench.http_load import Upload
from bench.loadtest import cold_start, load
from bench.perf_options import Options
from bench.process_tree import tree_rss
from bench.report import render
from bench.server import Server
from bench.track import Track, pick_track
from tests.service.samples import make_artifact

SERVE = (sys.executable, "-m", "service")


@pytest.fixture(scope="module")
def model_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("models")
    make_artifact(repo)
    return repo


@pytest.fixture(scope="module")
def track(tmp_path_factory: pytest.TempPathFactory) -> Track:
    folder = tmp_path_factory.mktemp("track")
    return pick_track(folder / "none", target_s=10.0, fallback_dir=folder)


def options(model_repo: Path, tmp_path: Path, **overrides: object) -> Options:
    values: dict[str, object] = {
        "model_dir": model_repo,
        "keras": None,
        "cache_dir": tmp_path,
        "split_file": tmp_path / "split.json",
        "out": tmp_path / "perf.md",
        "raw_dir": tmp_path,
        "repeats": 2,
        "intra_values": (1,),
        "batch_sizes": (8, 4),
        "streams": (1, 2),
        "stream_batches": (8,),
        "songs_per_stream": 1,
        "stream_rounds": 1,
        "server_command": SERVE,
        "flops": False,
        "section_wait_s": 0.0,
        "skip": frozenset({"service", "cold", "naive", "training", "quantize"}),
        **overrides,
    }
    return Options(**values)  # type: ignore[arg-type]


def test_a_synthetic_track_stands_in_when_there_is_no_real_one(track: Track) -> None:
    assert track.synthetic
    assert track.duration_s == pytest.approx(10.0, abs=0.01)
    assert "synthetic" in track.describe()


def test_in_process_run_and_report(model_repo: Path, track: Track, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(perf, "pick_track", lambda **_: track)
    results = perf.run(options(model_repo, tmp_path), log=lambda _: None)
    assert [f.settings.batch_size for f in results.floors] == [8, 4]
    floor = results.best_floor
    assert floor.n_segments == 3 and floor.seconds > 0
    assert [s.streams for s in results.streams] == [1, 2]
    assert results.frontend is not None and results.frontend.max_abs_diff < 1e-5
    text = render(results, options(model_repo, tmp_path))
    assert "## Targets" in text and "## 1. Floor" in text
    assert str(tmp_path) not in text  # the report names no machine paths


def test_server_under_load_and_cold_start(model_repo: Path, track: Track) -> None:
    settings = {"SONGID_MAX_CONCURRENT_REQUESTS": "1", "SONGID_MAX_QUEUED_REQUESTS": "4"}
    upload = Upload("track", track.data)
    with Server(model_repo, settings=settings, command=SERVE) as server:
        assert server.wait_ready(60) > 0
        run = load(server, upload, clients=3, requests=6)
        pid = server.pid
    assert run.errors == 0 and len(run.ok) == 6
    assert run.peak_rss > 10e6
    assert tree_rss(pid) == 0  # the server stopped
    start = cold_start(model_repo, upload, settings, steady_requests=2, command=SERVE)
    assert start.ready_s > 0 and start.first_s > 0 and len(start.steady_s) == 2
    assert {"model loaded", "ready"} <= set(start.phases)
