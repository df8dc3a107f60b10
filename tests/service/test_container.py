"""The container files: the Dockerfile lints clean and the compose file says what it must."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
yaml = pytest.importorskip("yaml")


def hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


@pytest.mark.skipif(hadolint() is None, reason="hadolint is not installed")
def test_dockerfile_lints_clean() -> None:
    result = subprocess.run(
        [str(hadolint()), "Dockerfile"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_the_service_unprivileged_with_a_healthcheck() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim|^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert '".[serve]"' in text and "[train]" not in text
    assert re.search(r"^USER (?!0\b|root)", text, re.M)
    assert "HEALTHCHECK" in text and "service.healthcheck" in text
    assert 'CMD ["songid-serve"]' in text
    assert "NUMBA_CACHE_DIR" in text and "log_mel" in text
    assert "SONGID_HOST=0.0.0.0" in text
    assert "API_KEYS" not in text  # no secrets baked in


def test_dockerignore_keeps_models_data_and_environments_out() -> None:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert "**" in lines
    assert "!service/**" in lines and "!frontend/**" in lines
    assert not any(line.startswith("!") and ("models" in line or "data" in line) for line in lines)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text()))


@pytest.mark.parametrize("name", ["songid", "songid-cuda"])
def test_compose_service(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["restart"] == "unless-stopped"
    assert service["healthcheck"]["test"][-1] == "service.healthcheck"
    (models,) = service["volumes"]
    assert models["target"] == "/app/models" and models["read_only"] is True
    assert all(re.fullmatch(r"(127\.0\.0\.1:)?\d+:8000", port) for port in service["ports"])
    known = {f"SONGID_{field.upper()}" for field in Settings.model_fields}
    assert set(service["environment"]) <= known


def test_compose_cuda_variant_is_an_opt_in_profile(compose: dict[str, Any]) -> None:
    cuda = compose["services"]["songid-cuda"]
    assert cuda["profiles"] == ["cuda"]
    assert "profiles" not in compose["services"]["songid"]
    assert cuda["environment"]["SONGID_EXECUTION_PROVIDER"] == "cuda"
    assert cuda["build"]["args"]["ONNXRUNTIME_PACKAGE"].startswith("onnxruntime-gpu")
    assert cuda["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
