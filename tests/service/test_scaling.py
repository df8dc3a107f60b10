"""Serving at scale: CPU replicas publish no port and sit behind the nginx proxy of deploy/."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = REPO_ROOT / "deploy" / "nginx.conf"
yaml = pytest.importorskip("yaml")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"])


@pytest.fixture(scope="module")
def nginx_conf() -> str:
    return NGINX_CONF.read_text(encoding="utf-8")


def directive(conf: str, name: str) -> str:
    match = re.search(rf"^\s*{name}\s+([^;]+);", conf, re.M)
    assert match, f"{name} is not set in {NGINX_CONF}"
    return match.group(1).strip()


def test_cpu_replicas_publish_no_host_port_so_they_scale(services: dict[str, Any]) -> None:
    songid = services["songid"]
    assert songid["ports"] == []
    assert songid["expose"] == ["8000"]
    assert "container_name" not in songid  # a fixed name would stop --scale


def test_the_proxy_is_the_one_way_in(services: dict[str, Any]) -> None:
    proxy = services["proxy"]
    assert proxy["ports"] == ["127.0.0.1:${SONGID_PROXY_PORT:-8000}:8080"]  # loopback; 8000 unless set
    assert proxy["depends_on"] == {"songid": {"condition": "service_healthy"}}
    (conf,) = proxy["volumes"]
    assert (conf["source"], conf["target"], conf["read_only"]) == (
        "./deploy/nginx.conf",
        "/etc/nginx/conf.d/default.conf",
        True,
    )
    # no root, so cap_drop ALL works; a stand-in may be named for offline builds
    assert proxy["image"].startswith("${SONGID_PROXY_IMAGE:-nginxinc/nginx-unprivileged:")
    assert proxy["cap_drop"] == ["ALL"] and proxy["restart"] == "unless-stopped"
    assert "proxy-healthz" in proxy["healthcheck"]["test"][-1]
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert len(published) == len(set(published))  # no two services on one host port


def test_the_proxy_follows_replicas_and_fits_the_services_limits(nginx_conf: str) -> None:
    assert directive(nginx_conf, "resolver").startswith("127.0.0.11 ")  # Docker's DNS, per request
    assert directive(nginx_conf, "set") == "$songid http://songid:8000"
    assert directive(nginx_conf, "proxy_pass") == "$songid"
    assert directive(nginx_conf, "listen") == "8080"
    assert directive(nginx_conf, "proxy_request_buffering") == "off"
    defaults = Settings()
    body_mib = int(directive(nginx_conf, "client_max_body_size").removesuffix("m"))
    assert body_mib * 2**20 > defaults.max_upload_bytes  # the service's 413 answers first
    read_s = int(directive(nginx_conf, "proxy_read_timeout").removesuffix("s"))
    assert read_s > defaults.request_timeout_s  # the service's 504 answers first


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {NGINX_CONF};\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            str(shutil.which("nginx")),
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(wrapper),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
