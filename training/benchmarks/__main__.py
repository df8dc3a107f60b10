"""Command line: ``python -m training.benchmarks build {gamemusic,voices,all} [--cache DIR] [--jobs N]``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from training.benchmarks.build import BENCHMARKS, DEFAULT_CACHE, build_benchmark
from training.benchmarks.debian import PackageError, ToolMissingError
from training.benchmarks.manifest import summarize


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from e
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the project CLI and for tests)."""
    p = argparse.ArgumentParser(
        prog="python -m training.benchmarks",
        description="Build real-audio benchmarks from Debian packages (needs apt-get and dpkg-deb).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser(
        "build",
        help="download, convert and write the manifest of a benchmark",
        description="Download the packages, convert the audio to 16 kHz mono FLAC and write "
        "<cache>/<name>/manifest.csv. Re-running skips what is already done.",
    )
    b.add_argument("name", choices=[*BENCHMARKS, "all"], help="benchmark to build")
    b.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help=f"cache folder (default: {DEFAULT_CACHE})"
    )
    b.add_argument("--jobs", type=_positive_int, default=2, help="conversion processes (default: 2)")
    b.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    names = list(BENCHMARKS) if args.name == "all" else [args.name]
    for name in names:
        try:
            manifest = build_benchmark(name, cache_dir=args.cache, jobs=args.jobs)
        except (ToolMissingError, PackageError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"{name}: {manifest}\n{summarize(manifest).format()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
