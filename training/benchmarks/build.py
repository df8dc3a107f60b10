"""Build a benchmark by name: the one entry point used by the command line and the project CLI."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from training.benchmarks import fillets, gamemusic, tuxpaint, voices

log = logging.getLogger(__name__)

DEFAULT_CACHE: Final = Path("data/benchmarks")

Builder = Callable[..., Path]

#: benchmark name -> builder(cache_dir=..., jobs=...) returning the manifest path
BENCHMARKS: Final[dict[str, Builder]] = {
    gamemusic.NAME: gamemusic.build,
    voices.NAME: voices.build,
    tuxpaint.NAME: tuxpaint.build,
    fillets.NAME: fillets.build,
}


def build_benchmark(name: str, *, cache_dir: Path, jobs: int = 2) -> Path:
    """Download the packages of benchmark ``name``, convert its audio and write its manifest.

    Re-running is cheap: downloaded packages, extracted trees and converted files
    are reused.

    Args:
        name: one of :data:`BENCHMARKS` (``gamemusic``, ``voices``, ``tuxpaint``, ``fillets``).
        cache_dir: root of the cache: ``debs/``, ``extract/<package>/`` and
            ``<name>/`` (``manifest.csv`` and ``audio/``) are created under it.
        jobs: worker processes for audio conversion.

    Returns:
        Path of ``<cache_dir>/<name>/manifest.csv``.

    Raises:
        ValueError: unknown ``name`` or ``jobs`` < 1.
        training.benchmarks.debian.ToolMissingError: apt-get or dpkg-deb is needed and missing.
        training.benchmarks.debian.PackageError: a package could not be downloaded or unpacked.
    """
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {sorted(BENCHMARKS)}")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    start = time.monotonic()
    manifest = BENCHMARKS[name](cache_dir=Path(cache_dir), jobs=jobs)
    log.info("%s built in %.0f s: %s", name, time.monotonic() - start, manifest)
    return manifest
