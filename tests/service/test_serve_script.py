"""scripts/serve installs what the configured gallery needs and puts the language expert in place
before it starts the service."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _fake_venv(root: Path, *, expert_status: int = 0) -> Path:
    """A virtual environment whose python records the pip command, whose songid-expert records its
    arguments (and exits with ``expert_status``) and whose songid-serve says it ran."""
    bin_dir = root / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    log = root / "pip.log"
    (bin_dir / "python").write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    (bin_dir / "songid-expert").write_text(
        f'#!/bin/sh\necho "$@" >> {root / "expert.log"}\nexit {expert_status}\n'
    )
    (bin_dir / "songid-serve").write_text("#!/bin/sh\necho serving\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return root / "venv"


@pytest.mark.parametrize(
    ("url", "extras"),
    [
        (None, "serve,expert"),
        ("sqlite:///gallery.sqlite", "serve,expert"),
        ("postgresql://songid@db:5432/songid", "serve,expert,postgres"),
        ("postgres://songid@db/songid", "serve,expert,postgres"),
    ],
)
def test_the_postgres_extra_is_installed_for_a_postgresql_gallery(
    tmp_path: Path, url: str | None, extras: str
) -> None:
    venv = _fake_venv(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SONGID_")} | {"SONGID_VENV": str(venv)}
    if url is not None:
        env["SONGID_DATABASE_URL"] = url
    result = subprocess.run(
        [str(REPO / "scripts" / "serve")], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "serving"
    installs = [line for line in (tmp_path / "pip.log").read_text().splitlines() if " -e " in line]
    assert installs == [f"-m pip install --quiet --disable-pip-version-check -e .[{extras}]"]
    assert (tmp_path / "expert.log").read_text().split() == ["fetch", "--model", "models"]


def test_an_expert_that_cannot_be_obtained_leaves_the_service_serving_the_network(tmp_path: Path) -> None:
    venv = _fake_venv(tmp_path, expert_status=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SONGID_")} | {"SONGID_VENV": str(venv)}
    env["SONGID_MODEL_DIR"] = "/srv/models"
    result = subprocess.run(
        [str(REPO / "scripts" / "serve")], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "serving"
    assert "serving language from the network alone" in result.stderr
    assert (tmp_path / "expert.log").read_text().split() == ["fetch", "--model", "/srv/models"]
