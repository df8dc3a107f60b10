"""The repository the benchmarks measure: its root, and its modules run as child processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_module(args: Sequence[str], *, env: Mapping[str, str] | None = None, timeout_s: float = 1800) -> str:
    """``python -m <args>`` from the repository root; returns stdout, raises on failure."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout
