"""``songid-tag``: tag every song of a folder or CSV manifest with artist and language.

    songid-tag music/ -o tags.parquet                     # local process pool, every core
    songid-tag catalog.csv -o tags.jsonl --top-k 3        # JSON Lines, appended to
    songid-tag music/ -o tags.parquet --engine ray --ray-address auto --workers 16

Run it again with the same output to resume: files already there are skipped.
Exit status: 0 when the job ran (files that could not be read are error rows),
1 when the model cannot be loaded, 2 for bad arguments or input, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from service.batch.job import ENGINES, tag_catalog
from service.batch.tagging import TagOptions
from service.limits import DEFAULT_LIMITS, MAX_TOP_K, MIB
from service.model import ModelLoadError
from service.settings import offline_gallery_url


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from e
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="songid-tag",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "input", type=Path, help="folder of audio files (recursive) or CSV with a 'path' column"
    )
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="*.jsonl file, or *.parquet folder of part files"
    )
    parser.add_argument("--model", type=Path, default=Path("models"), help="model folder, or one holding one")
    parser.add_argument("--model-version", type=_positive_int, default=None, help="default: the highest")
    parser.add_argument("--provider", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument(
        "--top-k", type=_positive_int, default=5, help=f"labels kept per task (at most {MAX_TOP_K})"
    )
    parser.add_argument(
        "--max-duration", type=float, default=DEFAULT_LIMITS.max_duration_s, help="seconds analysed per file"
    )
    parser.add_argument(
        "--max-decoded-mib",
        type=_positive_int,
        default=DEFAULT_LIMITS.max_decoded_bytes // MIB,
        help="largest decoded PCM per file, MiB",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_LIMITS.batch_size,
        help="segments per inference call",
    )
    parser.add_argument(
        "--gallery", type=Path, default=None, help="SQLite artist gallery: enrolled artists are answered too"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="the artist gallery's URL, sqlite:///<file> or postgresql://... (default: the service's "
        "settings, SONGID_DATABASE_URL or SONGID_GALLERY_PATH; none set: no gallery)",
    )
    parser.add_argument("--engine", choices=ENGINES, default="local")
    parser.add_argument(
        "--workers", type=_positive_int, default=None, help="processes or Ray actors (default: cores)"
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="ONNX Runtime threads per worker (default: cores // workers; Ray: 1 CPU per actor)",
    )
    parser.add_argument("--rows-per-part", type=_positive_int, default=1000, help="rows per Parquet part")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    ray = parser.add_argument_group("ray engine")
    ray.add_argument("--ray-address", default=None, help="Ray cluster address (default: a local Ray)")
    ray.add_argument("--gpus-per-actor", type=float, default=0.0, help="GPUs per actor; fractions share one")
    ray.add_argument("--files-per-batch", type=_positive_int, default=4, help="files per map_batches call")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.engine != "ray" and (args.ray_address or args.gpus_per_actor):
        print("songid-tag: error: --ray-address and --gpus-per-actor need --engine ray", file=sys.stderr)
        return 2
    try:
        options = TagOptions(
            model_dir=str(args.model),
            model_version=args.model_version,
            provider=args.provider,
            top_k=args.top_k,
            max_duration_s=args.max_duration,
            max_decoded_bytes=args.max_decoded_mib * MIB,
            batch_size=args.batch_size,
            gallery_url=offline_gallery_url(args.database_url, args.gallery),
        )
        report = tag_catalog(
            args.input,
            args.output,
            options,
            engine=args.engine,
            workers=args.workers,
            intra_op_threads=args.threads,
            rows_per_part=args.rows_per_part,
            progress=not args.no_progress,
            ray_address=args.ray_address,
            gpus_per_actor=args.gpus_per_actor,
            files_per_batch=args.files_per_batch,
        )
    except ModelLoadError as e:
        print(f"songid-tag: cannot load the model: {e}", file=sys.stderr)
        return 1
    except (ValueError, RuntimeError) as e:
        print(f"songid-tag: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("songid-tag: interrupted; rows written so far are kept: run again to resume", file=sys.stderr)
        return 130
    print(f"{report.summary()} -> {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
