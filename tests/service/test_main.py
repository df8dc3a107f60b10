"""The real server process: ``songid-serve`` started, probed, used and stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from frontend.audio import FRONTEND_PARAMS
from tests.processes import free_port, server_process, wait_ready
from tests.service.samples import encode, make_artifact

REPO_ROOT = Path(__file__).resolve().parents[2]
API_KEY = "process-test-key-9f2c"


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("songid-serve")
    return [str(script)] if script.exists() else [sys.executable, "-m", "service"]


def server_env(model_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SONGID_")}
    env.update(
        SONGID_MODEL_DIR=str(model_dir),
        SONGID_HOST="127.0.0.1",
        SONGID_PORT=str(port),
        SONGID_EXECUTION_PROVIDER="cpu",
        SONGID_INTRA_OP_THREADS="1",
        **extra,
    )
    return env


@pytest.fixture
def server(model_repo: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = free_port()
    log_path = tmp_path / "server.log"
    env = server_env(model_repo, port, SONGID_API_KEYS=API_KEY)
    with server_process(serve_command(), env=env, cwd=REPO_ROOT, log_path=log_path) as process:
        yield f"http://127.0.0.1:{port}", process, log_path


@pytest.mark.slow
def test_server_process_serves_predictions(server: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    base, process, log_path = server
    ready = wait_ready(base, process, log_path)
    assert ready["providers"] == ["CPUExecutionProvider"]
    assert httpx.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}

    files = {"file": ("song.ogg", encode("ogg", seconds=6.5), "audio/ogg")}
    assert httpx.post(f"{base}/predict", files=files, timeout=30).status_code == 401
    response = httpx.post(
        f"{base}/predict",
        files=files,
        params={"top_k": 2},
        headers={"Authorization": f"Bearer {API_KEY}", "X-Request-ID": "proc-1"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "proc-1"
    body = response.json()
    assert body["n_segments"] == 2
    assert len(body["predictions"]["language"]) == 2

    probe = subprocess.run(
        [sys.executable, "-m", "service.healthcheck"],
        cwd=REPO_ROOT,
        env=server_env(Path("unused"), int(base.rsplit(":", 1)[1])),
        capture_output=True,
        timeout=30,
    )
    assert probe.returncode == 0, probe.stderr

    process.terminate()
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert process.wait(timeout=15) in (0, -signal.SIGTERM)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(entry.get("request_id") == "proc-1" and entry.get("status") == 200 for entry in lines)
    assert any(entry["message"] == "Application shutdown complete." for entry in lines)
    assert API_KEY not in log_path.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("problem", ["missing", "mismatched"])
def test_server_refuses_to_start_without_a_good_model(tmp_path: Path, problem: str) -> None:
    if problem == "missing":
        model_dir, expected = tmp_path / "no-models-here", "no-models-here: model folder does not exist"
    else:
        make_artifact(tmp_path, frontend={**FRONTEND_PARAMS, "sample_rate": 22050})
        model_dir, expected = tmp_path, "frontend.json: model was made for another audio front end"
    result = subprocess.run(
        serve_command(),
        cwd=REPO_ROOT,
        env=server_env(model_dir, free_port()),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_healthcheck_fails_when_nothing_listens() -> None:
    env = server_env(Path("unused"), free_port())
    probe = subprocess.run(
        [sys.executable, "-m", "service.healthcheck"], cwd=REPO_ROOT, env=env, capture_output=True, timeout=30
    )
    assert probe.returncode == 1


def test_invalid_configuration_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.__main__ import main

    monkeypatch.setenv("SONGID_EXECUTION_PROVIDER", "tpu")
    monkeypatch.setenv("SONGID_MAX_CONCURRENT_REQUESTS", "0")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "SONGID_EXECUTION_PROVIDER" in err
    assert "SONGID_MAX_CONCURRENT_REQUESTS" in err


def test_a_postgresql_gallery_without_its_driver_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    from service.__main__ import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "psycopg" else real(name))
    monkeypatch.setenv("SONGID_DATABASE_URL", "postgresql://songid@127.0.0.1:1/songid")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "driver is not installed" in err and "songid[serve,postgres]" in err
    assert "Traceback" not in err


def test_help_lists_the_environment_variables_and_starts_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    from service.__main__ import main

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "SONGID_MODEL_DIR" in out and "SONGID_MAX_QUEUED_REQUESTS (default: 16)" in out


def test_an_option_is_refused_and_named(capsys: pytest.CaptureFixture[str]) -> None:
    from service.__main__ import main

    with pytest.raises(SystemExit) as done:
        main(["--port", "9000"])
    assert done.value.code == 2
    assert "--port" in capsys.readouterr().err
