"""Download Debian binary packages with ``apt-get download`` and unpack them with ``dpkg-deb -x``.

Both steps are idempotent: a ``.deb`` already in the download folder is reused
(so the folder can also be filled by hand on a machine without apt), and an
extracted tree carries a marker naming the ``.deb`` it came from, so it is only
unpacked again when the package file changes.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

log = logging.getLogger(__name__)

EXTRACTED_MARKER = ".extracted-from"
_PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")  # Debian policy 5.6.1


class ToolMissingError(RuntimeError):
    """A required system program (apt-get, dpkg-deb) is not installed."""


class PackageError(RuntimeError):
    """A package could not be downloaded or unpacked."""


def check_package_name(package: str) -> str:
    """Return ``package`` if it is a valid Debian package name, else raise ``ValueError``."""
    if not _PACKAGE_NAME.match(package):
        raise ValueError(f"not a valid Debian package name: {package!r}")
    return package


def require_tool(name: str, *, purpose: str) -> str:
    """Absolute path of program ``name``; raise :class:`ToolMissingError` saying why it is needed."""
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(
            f"'{name}' was not found on PATH; it is needed to {purpose}. "
            "Run the benchmark builder on a Debian or Ubuntu system (or in a Debian container)."
        )
    return found


def find_deb(debs_dir: Path, package: str) -> Path | None:
    """The downloaded ``.deb`` of ``package`` in ``debs_dir`` (newest name if several), or ``None``."""
    check_package_name(package)
    candidates = sorted(debs_dir.glob(f"{package}_*.deb"))
    if len(candidates) > 1:
        log.warning("several files for %s in %s; using %s", package, debs_dir, candidates[-1].name)
    return candidates[-1] if candidates else None


def _run(cmd: Sequence[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, check=False)


def _tail(text: str, lines: int = 5) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def download_deb(package: str, *, debs_dir: Path) -> Path:
    """Path of the ``.deb`` for ``package``, downloading it into ``debs_dir`` if it is not there.

    Raises:
        ToolMissingError: apt-get is needed and not installed.
        PackageError: apt-get failed (unknown package, no network, stale package lists).
    """
    existing = find_deb(debs_dir, package)
    if existing is not None:
        return existing
    apt_get = require_tool("apt-get", purpose=f"download the Debian package {package!r}")
    debs_dir.mkdir(parents=True, exist_ok=True)
    result = _run([apt_get, "download", package], cwd=debs_dir)
    if result.returncode != 0:
        hint = " (try 'apt-get update' first)" if "Unable to locate" in result.stderr else ""
        raise PackageError(
            f"'apt-get download {package}' failed with exit code {result.returncode}{hint}:\n"
            f"{_tail(result.stderr or result.stdout)}"
        )
    deb = find_deb(debs_dir, package)
    if deb is None:
        raise PackageError(f"'apt-get download {package}' succeeded but no {package}_*.deb is in {debs_dir}")
    return deb


def extract_deb(deb: Path, *, dest: Path) -> Path:
    """Unpack ``deb`` into ``dest`` (skipped if ``dest`` already holds this very file's contents).

    Raises:
        ToolMissingError: dpkg-deb is not installed.
        PackageError: dpkg-deb failed (a truncated or corrupt download).
    """
    marker = dest / EXTRACTED_MARKER
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == deb.name:
        return dest
    dpkg_deb = require_tool("dpkg-deb", purpose=f"unpack {deb.name}")
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    result = _run([dpkg_deb, "-x", str(deb), str(partial)])
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise PackageError(
            f"'dpkg-deb -x {deb}' failed with exit code {result.returncode} "
            f"(delete the file to download it again):\n{_tail(result.stderr)}"
        )
    (partial / EXTRACTED_MARKER).write_text(deb.name + "\n", encoding="utf-8")
    if dest.exists():
        shutil.rmtree(dest)
    partial.rename(dest)
    return dest


def fetch_packages(packages: Sequence[str], *, cache_dir: Path) -> dict[str, Path]:
    """Download and unpack ``packages``; return package -> extracted root (``<cache>/extract/<pkg>``).

    ``.deb`` files go to ``<cache>/debs/``.
    """
    for package in packages:
        check_package_name(package)
    debs_dir = cache_dir / "debs"
    roots: dict[str, Path] = {}
    for package in tqdm(packages, desc="packages", unit="pkg"):
        deb = download_deb(package, debs_dir=debs_dir)
        roots[package] = extract_deb(deb, dest=cache_dir / "extract" / package)
        log.debug("%s ready in %s", package, roots[package])
    return roots
