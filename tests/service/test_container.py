"""The container files: the Dockerfile lints clean and the compose file says what it must."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
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


# What the serving install must not pull in: the training stack and librosa's (about 400 MB),
# as distributions and as the modules they provide.
NOT_SERVED = {
    "librosa",
    "scipy",
    "numba",
    "llvmlite",
    "scikit-learn",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
}
NOT_SERVED_MODULES = {"librosa", "scipy", "numba", "llvmlite", "sklearn", "tensorflow", "keras"}
SECONDS = {"s": 1, "m": 60}


def seconds(duration: str) -> int:
    """``"5s"`` or ``"1m"`` (the forms the container files use) in seconds."""
    match = re.fullmatch(r"(\d+)([sm])", duration)
    assert match, duration
    return int(match.group(1)) * SECONDS[match.group(2)]


def dockerfile() -> str:
    return (REPO_ROOT / "Dockerfile").read_text()


def test_dockerfile_runs_the_service_unprivileged_with_a_healthcheck() -> None:
    text = dockerfile()
    assert re.search(r"^FROM python:3\.11-slim|^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert (
        '".[serve,expert,postgres]"' in text
        and "train" not in re.findall(r"pip install[^\n]*\.\[([a-z,]+)\]", text)[0]
    )
    assert re.search(r"^USER (?!0\b|root)", text, re.M)
    assert "HEALTHCHECK" in text and "service.healthcheck" in text
    assert 'CMD ["songid-serve"]' in text
    assert "SONGID_HOST=0.0.0.0" in text
    assert "API_KEYS" not in text  # no secrets baked in


def test_dockerfile_has_no_numba_step_left() -> None:
    """The front end is numpy alone: nothing to compile at build time, no numba cache."""
    text = dockerfile()
    for dead in ("NUMBA", "numba", "log_mel"):
        assert dead not in text


def test_dockerfile_builds_from_any_debian_python_without_a_registry() -> None:
    text = dockerfile()
    # BuildKit fetches a `# syntax=` frontend image from a registry: none, so offline builds work.
    assert not re.search(r"^#\s*syntax=", text, re.M)
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\} AS build$", text, re.M)
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\} AS runtime$", text, re.M)
    # Debian's python3 packages have no `python` before the venv exists.
    assert "RUN python3 -m venv /opt/venv" in text
    assert "PIP_CERT" in text  # extra CA certificates for the build's pip: see below


CA_FILE = "build-ca.pem"  # the build context's extra CA certificates (docs/service.md)


def test_dockerfile_takes_extra_ca_certificates_as_an_optional_file_not_text() -> None:
    """A whole CA bundle (hundreds of KB) passes no argument list: it is a file in the context."""
    text = dockerfile()
    assert not re.search(r"^ARG .*CERT", text, re.M)  # no certificate text as a build argument
    # The wildcard makes the file optional; the same COPY names files that are always there,
    # as the classic builder refuses a COPY whose sources all match nothing.
    copy = re.search(rf"^COPY (.*) {re.escape(CA_FILE)}\* \./$", text, re.M)
    assert copy and "pyproject.toml" in copy.group(1).split()
    assert f"if [ -f {CA_FILE} ]" in text and f"cat {CA_FILE} >>" in text
    # Read by the build stage only: the runtime stage takes nothing from it but the venv.
    assert re.findall(r"^COPY --from=build (.*)$", text, re.M) == ["/opt/venv /opt/venv"]
    assert f"!{CA_FILE}" in (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert CA_FILE in (REPO_ROOT / "docs" / "service.md").read_text()


def test_dockerfile_gives_the_service_user_a_writable_home_outside_the_model_mount() -> None:
    text = dockerfile()
    home = re.search(r"^\s+HOME=(\S+)", text, re.M)
    assert home, "the runtime stage sets HOME"
    assert not home.group(1).startswith("/app")  # /app holds the read-only model mount
    assert f"--home-dir {home.group(1)}" in text
    assert f"chown songid:songid {home.group(1)}" in text
    assert "ORT_DISABLE_TELEMETRY=1" in text  # no outbound connections, nothing persisted


def test_dockerfile_healthcheck_reports_healthy_within_seconds_of_readiness() -> None:
    match = re.search(r"^HEALTHCHECK (.*?)\\?$", dockerfile(), re.M)
    assert match
    options = dict(re.findall(r"--([a-z-]+)=(\S+)", match.group(1)))
    assert seconds(options["interval"]) <= 5
    assert seconds(options["start-period"]) >= 30  # a slow (CUDA) start is not counted as failing


def project() -> dict[str, Any]:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0].lower() for req in requirements}


def test_serving_install_pulls_no_librosa_and_no_training_stack() -> None:
    meta = project()
    served = requirement_names(meta["dependencies"] + meta["optional-dependencies"]["serve"])
    assert not served & NOT_SERVED
    assert "librosa" in requirement_names(meta["optional-dependencies"]["dev"])  # tests and benchmarks


def top_level_imports(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["frontend", "service"])
def test_served_packages_import_nothing_the_serving_install_leaves_out(package: str) -> None:
    imported = top_level_imports(REPO_ROOT / package)
    assert not imported & NOT_SERVED_MODULES


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
    # The proxy waits for this check: it must pass within seconds of the service being ready.
    # (`start_interval` would need Docker Engine 25 and is unknown to docker-compose 1.x.)
    assert seconds(service["healthcheck"]["interval"]) <= 5
    assert "start_interval" not in service["healthcheck"]
    args = service["build"]["args"]
    default_base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile(), re.M)
    assert default_base and args["PYTHON_IMAGE"] == f"${{SONGID_PYTHON_IMAGE:-{default_base.group(1)}}}"
    assert not [arg for arg in args if "CERT" in arg]  # certificates are a file, not an argument
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


def test_compose_proxy_image_and_port_can_be_overridden(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    assert re.fullmatch(r"\$\{SONGID_PROXY_IMAGE:-nginxinc/nginx-unprivileged:[\w.-]+\}", proxy["image"])
    assert proxy["ports"] == ["127.0.0.1:${SONGID_PROXY_PORT:-8000}:8080"]
    assert proxy["depends_on"]["songid"]["condition"] == "service_healthy"


SMOKE = REPO_ROOT / "scripts" / "compose-smoke"


def test_compose_smoke_is_a_bounded_loopback_check_outside_the_fast_suite() -> None:
    text = SMOKE.read_text()
    assert os.access(SMOKE, os.X_OK)
    assert subprocess.run(["bash", "-n", str(SMOKE)], capture_output=True, timeout=30).returncode == 0
    assert "trap cleanup EXIT" in text and "down --volumes" in text  # always torn down
    assert "SONGID_SMOKE_TIMEOUT_S" in text  # every wait is bounded
    assert re.findall(r"https?://([\w.]+)", text) == ["127.0.0.1"]  # loopback only
    assert "compose-smoke" not in (REPO_ROOT / "scripts" / "test").read_text()


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_compose_smoke_passes_shellcheck() -> None:
    result = subprocess.run(["shellcheck", str(SMOKE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


COMPOSE_CONFIG = REPO_ROOT / "scripts" / "compose-config"
FAKE_COMPOSE = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "{log}"
if [ "$1 $2" = "version --short" ] || [ "$1 $2 $3" = "compose version --short" ]; then echo {version}; fi
if [ "$1 $2" = "compose version" ] && [ {v2} = no ]; then exit 1; fi
exit 0
"""


@pytest.mark.parametrize("v2", [True, False], ids=["with docker compose", "docker-compose only"])
def test_compose_config_checks_with_compose_1_and_with_docker_compose_where_installed(
    tmp_path: Path, v2: bool
) -> None:
    """Debian 12 packages docker-compose 1.x; newer Docker has `docker compose`: the file must suit both."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    logs = {name: tmp_path / f"{name}.log" for name in ("docker", "docker-compose")}
    for name, version in (("docker", "2.29.1"), ("docker-compose", "1.29.2")):
        script = FAKE_COMPOSE.format(log=logs[name], version=version, v2="yes" if v2 else "no")
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", str(COMPOSE_CONFIG)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checks = ["-f docker-compose.yml config --quiet", "-f docker-compose.yml --profile cuda config --quiet"]
    assert all(check in logs["docker-compose"].read_text().splitlines() for check in checks)
    docker_calls = logs["docker"].read_text().splitlines()
    assert all((f"compose {check}" in docker_calls) == v2 for check in checks)
