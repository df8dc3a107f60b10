"""Build a benchmark by name: the one entry point used by the command line and the project CLI."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from training.benchmarks import composers, dplace, fillets, gamemusic, gcompris, tuxpaint, voices

log = logging.getLogger(__name__)

DEFAULT_CACHE: Final = Path("data/benchmarks")

Builder = Callable[..., Path]

#: benchmark name -> builder(cache_dir=..., jobs=...) returning the manifest path
BENCHMARKS: Final[dict[str, Builder]] = {
    gamemusic.NAME: gamemusic.build,
    composers.NAME: composers.build,
    voices.NAME: voices.build,
    tuxpaint.NAME: tuxpaint.build,
    fillets.NAME: fillets.build,
    gcompris.NAME: gcompris.build,
    dplace.NAME: dplace.build,
}
#: benchmarks read from a public git repository: name -> its default source (a URL)
REPOSITORIES: Final = {gcompris.NAME: gcompris.SOURCE, dplace.NAME: dplace.SOURCE}


def build_benchmark(name: str, *, cache_dir: Path, jobs: int = 2, source: str | None = None) -> Path:
    """Download the packages (or clone the repository) of benchmark ``name``, convert its audio and
    write its manifest.

    Re-running is cheap: downloaded packages, extracted trees and converted files
    are reused.

    Args:
        name: one of :data:`BENCHMARKS`.
        cache_dir: root of the cache: ``debs/``, ``extract/<package>/``, ``external/<repository>/``
            and ``<name>/`` (``manifest.csv`` and ``audio/``) are created under it.
        jobs: worker processes for audio conversion.
        source: for a benchmark of :data:`REPOSITORIES`, a local checkout or a URL to clone
            (default: the repository's public URL); refused for the others.

    Returns:
        Path of ``<cache_dir>/<name>/manifest.csv``.

    Raises:
        ValueError: unknown ``name``, ``jobs`` < 1, or a ``source`` for a Debian benchmark.
        training.benchmarks.debian.ToolMissingError: apt-get or dpkg-deb is needed and missing.
        training.benchmarks.debian.PackageError: a package could not be downloaded or unpacked.
        training.benchmarks.repository.RepositoryError: the repository could not be cloned or read.
    """
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {sorted(BENCHMARKS)}")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if source is not None and name not in REPOSITORIES:
        raise ValueError(f"benchmark {name!r} is built from Debian packages and takes no source")
    start = time.monotonic()
    extra = {"source": source or REPOSITORIES[name]} if name in REPOSITORIES else {}
    manifest = BENCHMARKS[name](cache_dir=Path(cache_dir), jobs=jobs, **extra)
    log.info("%s built in %.0f s: %s", name, time.monotonic() - start, manifest)
    return manifest
