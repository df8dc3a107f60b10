"""Batch tagging throughput: the local process pool against Ray Data, on the same files.

    python -m bench.tagging                         # 16 synthetic 3-minute tracks, the bundled model
    python -m bench.tagging music/ --model models/my-model --workers 4
    python -m bench.tagging catalog.csv --skip-ray

Prints songs per second for each engine (worker start-up and model loading included, as a
user of ``songid-tag`` would see them; a local Ray is started before the clock starts) and
checks that both engines wrote identical rows. Each engine gets the same number of workers
and the same ONNX Runtime and BLAS threads per worker, so the rows are bit for bit equal.
Without ``--model``, the bundled ``models/songid-multitask`` is used when present, else a
tiny test model is built (its figures then measure decoding and log-mel, not the network).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from service.batch.job import JobReport, tag_catalog
from service.batch.local import available_cores
from service.batch.sinks import read_rows
from service.batch.tagging import TagOptions
from training.signals import synthetic_track

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_MODEL = REPO_ROOT / "models" / "songid-multitask"
TRACK_RATE = 44_100  # Hz: not the model's rate, so the resampler runs as for real files


def synthetic_tracks(folder: Path, n: int, *, seconds: float, seed: int = 0) -> Path:
    """Write ``n`` different melodies of ``seconds`` (:func:`training.signals.synthetic_track`; a steady
    tone would be judged to hold no evidence, and the network would not run)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        synthetic_track(folder / f"track{i:04d}.flac", seconds=seconds, rate=TRACK_RATE, seed=seed + i)
    return folder


def tiny_model(folder: Path) -> Path:
    """The test suite's tiny but real ONNX model folder (needs the ``onnx`` package)."""
    samples = importlib.import_module("tests.service.samples")  # test code: not type-checked here
    return Path(samples.make_artifact(folder, name="songid-bench"))


def run_engine(engine: str, source: Path, output: Path, options: TagOptions, workers: int) -> JobReport:
    report = tag_catalog(
        source,
        output,
        options,
        engine="ray" if engine == "ray" else "local",
        workers=workers,
        intra_op_threads=max(1, available_cores() // workers),
        progress=False,
    )
    if report.tagged != report.listed:
        raise RuntimeError(f"{engine}: tagged {report.tagged} of {report.listed} files")
    return report


def compare(a: Path, b: Path) -> tuple[bool, float]:
    """Whether two outputs hold identical rows, and the largest probability difference."""
    rows_a = {row["path"]: row for row in read_rows(a)}
    rows_b = {row["path"]: row for row in read_rows(b)}
    if set(rows_a) != set(rows_b):
        return False, float("inf")
    worst = 0.0
    for key, row in rows_a.items():
        for column, value in row.items():
            if column.endswith("_probabilities") and len(value) == len(rows_b[key][column]):
                diffs = np.abs(np.asarray(value) - np.asarray(rows_b[key][column]))
                worst = max(worst, float(diffs.max(initial=0.0)))
    return rows_a == rows_b, worst


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tagging", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, help="folder or CSV manifest; default: synthetic")
    parser.add_argument("--n", type=int, default=16, help="synthetic tracks")
    parser.add_argument("--seconds", type=float, default=180.0, help="length of each synthetic track")
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the bundled one)")
    parser.add_argument("--workers", type=int, default=available_cores(), help="processes and Ray actors")
    parser.add_argument("--skip-ray", action="store_true", help="measure the local pool only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.n < 1 or args.seconds <= 0 or args.workers < 1:
        parser.error(
            f"need --n >= 1, --seconds > 0 and --workers >= 1, got {args.n}, {args.seconds}, {args.workers}"
        )

    with tempfile.TemporaryDirectory(prefix="songid-bench-") as tmp_name:
        tmp = Path(tmp_name)
        source = args.source
        if source is None:
            (tmp / "tracks").mkdir()
            source = synthetic_tracks(tmp / "tracks", args.n, seconds=args.seconds)
        model = args.model or (BUNDLED_MODEL if BUNDLED_MODEL.is_dir() else tiny_model(tmp / "models"))
        options = TagOptions(model_dir=str(model), provider="cpu")
        threads = max(1, available_cores() // args.workers)
        print(f"machine: {platform.processor() or platform.machine()}, {available_cores()} cores usable")
        print(f"model: {model}; input: {args.source or f'{args.n} synthetic {args.seconds:g}-s WAV tracks'}")
        print(f"workers: {args.workers} x {threads} thread(s)")

        results: dict[str, JobReport] = {}
        results["local"] = run_engine("local", source, tmp / "local.parquet", options, args.workers)
        ray_started = None
        if not args.skip_ray:
            ray = _start_ray()
            if ray is not None:
                ray_started = time.perf_counter()
                results["ray"] = run_engine("ray", source, tmp / "ray.parquet", options, args.workers)
                ray.shutdown()

        audio_s = sum(row["duration_s"] or 0.0 for row in read_rows(tmp / "local.parquet"))
        print(f"\n{'engine':<8}{'songs':>7}{'seconds':>10}{'songs/s':>10}{'audio x realtime':>18}")
        for engine, report in results.items():
            print(
                f"{engine:<8}{report.tagged:>7}{report.seconds:>10.1f}{report.songs_per_s:>10.2f}"
                f"{audio_s / report.seconds:>18.0f}"
            )
        if ray_started is not None:
            identical, worst = compare(tmp / "local.parquet", tmp / "ray.parquet")
            print(
                f"\nidentical rows: {'yes' if identical else 'NO'} "
                f"(largest probability difference {worst:.2e})"
            )
            return 0 if identical else 1
    return 0


def _start_ray() -> Any:
    """A local Ray on this machine's cores, quietly; ``None`` (with a note) when Ray is missing."""
    try:
        import ray
        import ray.data
    except ImportError:
        print("ray: not installed (pip install 'songid[ray]'); skipped", file=sys.stderr)
        return None
    started = time.perf_counter()
    ray.init(num_cpus=available_cores(), include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    print(f"ray: local cluster started in {time.perf_counter() - started:.1f} s (not counted)")
    return ray


if __name__ == "__main__":
    raise SystemExit(main())
