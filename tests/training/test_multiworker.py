"""Two training workers on 127.0.0.1 (TF_CONFIG, MultiWorkerMirroredStrategy): both finish,
only the chief writes the run folder, and the chief's run exports to a servable model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from frontend.artifact import load_artifact
from frontend.audio import INPUT_SHAPE
from tests.conftest import write_catalog
from training.cli.main import main
from training.run_folder import RunFolder

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
BATCH = 4  # per replica; the global batch is 8
TIMEOUT_S = 240.0


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mel cache of 24 seven-second songs (2 languages x 3 artists x 4) and its split."""
    root = tmp_path_factory.mktemp("multiworker")
    write_catalog(root / "data", songs_per_artist=4)
    cache = str(root / "cache")
    assert main(["prepare", "--data", str(root / "data"), "--cache", cache, "--jobs", "1"]) == 0
    assert main(["split", "--cache", cache, "--out", str(root / "split.json"), "--seed", "0"]) == 0
    return root


@pytest.mark.slow
def test_two_workers_train_and_the_chief_exports(prepared: Path) -> None:
    run, ports = prepared / "run", free_ports(WORKERS)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    command = [sys.executable, "-m", "training.cli.main", "train", "--cache", str(prepared / "cache")]
    command += ["--split", str(prepared / "split.json"), "--run", str(run), "--epochs", "1"]
    command += ["--segments-per-song", "2", "--batch-size", str(BATCH)]
    processes: list[subprocess.Popen[bytes]] = []
    logs = [prepared / f"worker{i}.log" for i in range(WORKERS)]
    temps = [prepared / f"worker{i}-tmp" for i in range(WORKERS)]
    try:
        for i in range(WORKERS):
            temps[i].mkdir()
            env = {
                **os.environ,
                "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}),
                "TMPDIR": str(temps[i]),  # where a non-chief keeps (and then deletes) its files
                "CUDA_VISIBLE_DEVICES": "",
                "TF_CPP_MIN_LOG_LEVEL": "2",
            }
            with logs[i].open("wb") as log:
                processes.append(
                    subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                )
        give_up = time.monotonic() + TIMEOUT_S
        while time.monotonic() < give_up and any(p.poll() is None for p in processes):
            time.sleep(0.5)
        codes = [p.poll() for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
    output = [log.read_text(errors="replace") for log in logs]
    assert codes == [0, 0], "\n\n".join(f"worker {i}:\n{text[-4000:]}" for i, text in enumerate(output))

    assert "trained 1 epochs" in output[0] and "trained 1 epochs" in output[1]
    assert "global batch 8 (4 per replica x 2 replicas)" in output[1]
    folder = RunFolder(run)
    written = (folder.config, folder.labels, folder.split, folder.model, folder.history)
    assert all(path.is_file() for path in written)
    assert len(folder.history.read_text().strip().splitlines()) == 2  # header and one epoch
    assert not folder.backup.exists()  # the chief's backup is removed once training ends
    assert list(temps[1].iterdir()) == []  # the other worker's temporary folder is gone

    models = prepared / "models"
    assert main(["export", "--run", str(run), "--models", str(models), "--name", "tiny-mw"]) == 0
    artifact = load_artifact(models / "tiny-mw")
    assert artifact.tasks == ["artist", "language"]
    session = ort.InferenceSession(str(artifact.onnx_path), providers=["CPUExecutionProvider"])
    artist, language, embedding = session.run(None, {"mel": np.zeros((3, *INPUT_SHAPE), dtype=np.float32)})
    assert artist.shape == (3, 6) and language.shape == (3, 2)  # artists are per language: ann-en, ...
    assert embedding.shape == (3, 480)  # the trunk's features, exported beside the heads
    assert np.allclose(artist.sum(axis=1), 1.0, atol=1e-5) and np.allclose(
        language.sum(axis=1), 1.0, atol=1e-5
    )


@pytest.mark.parametrize("value", ["{not json", '{"cluster": {"worker": ["127.0.0.1:1"]}}', '["worker"]'])
def test_a_bad_tf_config_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from training.distribute import cluster_from_environment

    monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(ValueError, match=r"TF_CONFIG must be JSON with 'cluster' and 'task' \{type, index\}"):
        cluster_from_environment()


def test_without_tf_config_training_is_local_and_writes_its_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from training.distribute import cluster_from_environment

    monkeypatch.delenv("TF_CONFIG", raising=False)
    cluster = cluster_from_environment()
    assert (cluster.replicas, cluster.is_chief, cluster.distributed) == (1, True, False)
