"""``songid`` subcommands of the training library: ``prepare``, ``benchmark``, ``split``, ``train``,
``calibrate``, ``evaluate`` and ``export``."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from training.cli.config import add_config_args, config_from_args
from training.config import TrainConfig

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

    result = train(args.cache, args.split, args.run, config_from_args(args))
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


def add_model_commands(sub: Any) -> None:
    """Add this module's subcommands to ``songid``'s subparsers."""
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
        "names",
        nargs="+",
        choices=("gamemusic", "composers", "voices", "tuxpaint", "fillets", "gcompris", "dplace"),
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
    add_config_args(p)
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
