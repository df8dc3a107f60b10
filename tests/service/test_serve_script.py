"""scripts/serve installs what the configured gallery needs before it starts the service."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _fake_venv(root: Path) -> Path:
    """A virtual environment whose python records the pip command and whose songid-serve says it ran."""
    bin_dir = root / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    log = root / "pip.log"
    (bin_dir / "python").write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    (bin_dir / "songid-serve").write_text("#!/bin/sh\necho serving\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return root / "venv"


@pytest.mark.parametrize(
    ("url", "extras"),
    [
        (None, "serve"),
        ("sqlite:///gallery.sqlite", "serve"),
        ("postgresql://songid@db:5432/songid", "serve,postgres"),
        ("postgres://songid@db/songid", "serve,postgres"),
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
