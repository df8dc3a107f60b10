"""``songid``: prepare, split, train, evaluate, compare and export from one command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from frontend.audio import SEGMENT_FRAMES
from training.cli_language import add_language_commands
from training.cli_openset import add_openset_commands
from training.config import TrainConfig


def _tasks(text: str) -> tuple[str, ...]:
    tasks = tuple(t.strip() for t in text.split(",") if t.strip())
    if not 1 <= len(tasks) <= 2:
        raise argparse.ArgumentTypeError(f"give one or two comma-separated tasks, got {text!r}")
    return tasks


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tasks", type=_tasks, default=("artist", "language"), help="heads, primary first")
    p.add_argument("--alpha", type=float, default=None, help="second-task loss weight (default N1/N2)")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--patience", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--segments-per-song", type=int, default=40, help="cap per epoch; 0 = all")
    p.add_argument("--hop-frames", type=int, default=SEGMENT_FRAMES, help="training segment hop")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--bn-epoch-calibration-segments",
        type=int,
        default=TrainConfig.bn_epoch_calibration_segments,
        help="training segments that set BatchNorm's inference statistics before each validation; 0 = off",
    )
    p.add_argument(
        "--bn-calibration-segments",
        type=int,
        default=TrainConfig.bn_calibration_segments,
        help="the same for the kept weights at the end of training; 0 = off",
    )
    p.add_argument(
        "--outlier-exposure",
        type=float,
        default=0.0,
        help="weight of outlier exposure on the split's exposure songs (0 = off, the paper's recipe)",
    )
    p.add_argument(
        "--exposure-task",
        default="",
        help="the head outlier exposure trains towards uniform (default: the first task)",
    )
    p.add_argument(
        "--exposure-excludes",
        nargs="*",
        default=[],
        help="labels of that head left out of the outliers' uniform target (e.g. zxx for singing)",
    )
    p.add_argument("--describe", default="", help="what the data is, for the model card")


def _config(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        tasks=args.tasks,
        alpha=args.alpha,
        epochs=args.epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        segments_per_song=args.segments_per_song or None,
        hop_frames=args.hop_frames,
        seed=args.seed,
        bn_epoch_calibration_segments=args.bn_epoch_calibration_segments,
        bn_calibration_segments=args.bn_calibration_segments,
        outlier_exposure=args.outlier_exposure,
        exposure_task=args.exposure_task,
        exposure_excludes=tuple(args.exposure_excludes),
        notes={"data": str(args.cache), **({"description": args.describe} if args.describe else {})},
    )


# Every subcommand imports what it runs inside its function (lazy: heavy imports, TensorFlow above
# all, stay out of ``songid --help`` and of the subcommands that do not need them).


def cmd_prepare(args: argparse.Namespace) -> int:
    from training.catalog import load_catalog
    from training.prepare import prepare

    songs = load_catalog(*args.data)
    report = prepare(songs, args.cache, jobs=args.jobs, max_duration_s=args.max_duration)
    print(
        f"{len(songs)} songs: {report.cached} already cached, {report.computed} computed, "
        f"{len(report.failed)} failed"
    )
    for path, reason in sorted(report.failed.items()):
        print(f"  skipped {path}: {reason}")
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    from training.prepare import read_index
    from training.split import split_songs, write_split

    assignment = split_songs(read_index(args.cache), seed=args.seed, stratify=args.stratify)
    write_split(args.out, assignment, seed=args.seed, stratify=args.stratify)
    print(f"wrote {args.out}: {json.loads(args.out.read_text())['counts']}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from training.train import train

    result = train(args.cache, args.split, args.run, _config(args))
    print(
        f"trained {result.epochs_run} epochs, best val loss {result.best_val_loss:.4f}, "
        f"{result.segments_per_second:.1f} segments/s -> {result.run_dir}"
    )
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from training.calibrate import calibrate_run

    n = calibrate_run(args.run, args.cache, segments=args.segments)
    print(f"BatchNorm statistics of {args.run} set from {n} training segments; evaluate and export again")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.evaluate import evaluate_run, markdown_table
    from training.run_folder import RunFolder

    metrics = evaluate_run(args.run, args.cache, split=args.split)
    print(markdown_table(metrics["tasks"]))
    print(f"report written to {RunFolder(args.run).eval_dir}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from training.compare import compare, paper_variants, table1

    config = _config(args)
    first, second = args.tasks
    results = compare(args.cache, args.out, config, seeds=args.seeds, variants=paper_variants(first, second))
    text = "".join(
        f"\n## {task}\n\n" + table1(results, task, baseline=f"cnn-{task}-only") for task in (first, second)
    )
    (args.out / "table1.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from training.reproduce import reproduce
    from training.reproduce_plan import Paths

    paths = Paths(benchmarks=args.benchmarks, caches=args.caches, runs=args.runs, reports=args.reports)
    for name in args.names:
        report = reproduce(
            name,
            paths=paths,
            seeds=args.seeds,
            smoke=args.smoke,
            jobs=args.jobs,
            report_only=args.report_only,
        )
        print(f"{name}: report written to {report}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from training.export import export_run

    out = export_run(args.run, args.models, name=args.name, version=args.version)
    print(f"exported {out}")
    if args.calibrate_on is not None:  # the open-set rule and the gallery's centroids, from the run's songs
        from training.centroids import command as centroids
        from training.openset_report import OpenSetInputs
        from training.openset_report import command as openset

        split = args.run / "split.json"
        unknown = args.unknown
        if unknown is not None:
            inputs = OpenSetInputs(out, args.calibrate_on, split, unknown, args.run / "openset")
            print("\n".join(openset(inputs, out=args.run / "openset.md", write_rules=True)))
        print("\n".join(centroids(out, args.calibrate_on, split, unknown)))
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from training.benchmarks.build import build_benchmark
    from training.benchmarks.manifest import summarize

    for name in args.names:
        manifest = build_benchmark(name, cache_dir=args.cache, jobs=args.jobs, source=args.source)
        print(f"{name}: {manifest}\n{summarize(manifest).format()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="songid", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("prepare", help="decode songs and cache their log-mels")
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        action="append",
        help="folder <language>/<artist>/<song> or CSV manifest; repeat to merge several",
    )
    p.add_argument("--cache", type=Path, required=True, help="mel cache folder (created)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--max-duration", type=float, default=None, help="seconds analysed per song")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser(
        "benchmark",
        help="build real-audio benchmarks from Debian packages or public repositories",
        description="Download the packages (apt-get download, no installation) or clone the repository, "
        "convert the audio to 16 kHz mono FLAC and write <cache>/<name>/manifest.csv. Re-running skips "
        "what is done.",
    )
    p.add_argument(
        "names", nargs="+", choices=("gamemusic", "voices", "tuxpaint", "fillets", "gcompris", "dplace")
    )
    p.add_argument("--cache", type=Path, default=Path("data/benchmarks"))
    p.add_argument(
        "--source",
        default=None,
        help="gcompris, dplace: a local checkout or a URL to clone (default: the public repository)",
    )
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.set_defaults(func=cmd_benchmark)

    p = sub.add_parser("split", help="song-level 80/10/10 split, stratified, seeded")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="split JSON to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stratify", default="artist")
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("train", help="train one model into a run folder")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--split", type=Path, required=True)
    p.add_argument("--run", type=Path, required=True, help="run folder (created)")
    _config_args(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("calibrate", help="set a trained run's BatchNorm statistics at inference (in place)")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--segments", type=int, default=TrainConfig.bn_calibration_segments)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("evaluate", help="metrics, tables and plots of a run")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("compare", help="baselines vs multitask over seeds (Table 1)")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="comparison folder (resumable)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    _config_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("reproduce", help="Table 1 on a real-audio benchmark, end to end (resumable)")
    p.add_argument("names", nargs="+", choices=("gamemusic", "voices", "tuxpaint", "fillets"))
    p.add_argument(
        "--seeds", type=int, nargs="+", default=None, help="seeds to run now (default: the plan's)"
    )
    p.add_argument("--smoke", action="store_true", help="1 epoch, 2 segments per song: proves the path")
    p.add_argument("--report-only", action="store_true", help="write the report from finished runs")
    p.add_argument("--benchmarks", type=Path, default=Path("data/benchmarks"))
    p.add_argument("--caches", type=Path, default=Path("data/cache"))
    p.add_argument("--runs", type=Path, default=Path("data/runs/reproduce"))
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("export", help="ONNX + metadata model folder (Triton layout)")
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--models", type=Path, default=Path("models"))
    p.add_argument("--name", required=True)
    p.add_argument("--version", type=int, default=1)
    p.add_argument(
        "--calibrate-on",
        type=Path,
        default=None,
        help="the run's mel cache: also write centroids.json (and with "
        "--unknown openset.json) from its train/val/test songs",
    )
    p.add_argument("--unknown", type=Path, default=None, help="manifest of songs by people outside the model")
    p.set_defaults(func=cmd_export)

    add_openset_commands(sub)
    add_language_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s"
    )
    try:
        return int(args.func(args))
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"songid {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
