"""Public git repositories as benchmark sources: a local checkout, or a clone of a URL.

A builder that reads a repository takes ``source``: a folder holding a checkout (used as it is,
never written), or anything ``git clone`` accepts (a URL, or a local clone without a work tree),
cloned once, shallow, into ``<cache>/external/<name>`` and reused on the next run.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Final

EXTERNAL_DIR: Final = "external"


class RepositoryError(RuntimeError):
    """A repository could not be cloned, or the checkout lacks what the builder needs."""


def checkout(source: str | Path, *, cache_dir: Path, name: str, expect: str) -> Path:
    """The work tree of ``source``, cloned into ``<cache_dir>/external/<name>`` when it is not one.

    Args:
        source: a folder with a checkout, or a URL or path for ``git clone``.
        cache_dir: the benchmarks cache root.
        name: the clone's folder name.
        expect: a path that must exist in the work tree (relative to its root).

    Raises:
        RepositoryError: git is missing or failed, or ``expect`` is not in the work tree.
    """
    local = Path(source)
    tree = local if (local / expect).exists() else Path(cache_dir) / EXTERNAL_DIR / name
    if not (tree / expect).exists():
        if shutil.which("git") is None:
            raise RepositoryError(f"git is needed to clone {source}; install it or pass a local checkout")
        if tree.exists():
            shutil.rmtree(tree)  # an interrupted clone
        tree.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["git", "clone", "--quiet", "--depth", "1", str(source), str(tree)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RepositoryError(f"git clone {source} failed: {done.stderr.strip()}")
    if not (tree / expect).exists():
        raise RepositoryError(f"{source}: no {expect} in the checkout; is it the right repository?")
    return tree
