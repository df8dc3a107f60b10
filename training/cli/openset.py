"""``songid`` subcommands of the open set and the gallery on an exported model: ``openset``,
``centroids`` and ``exposure-split``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# Every subcommand imports what it runs inside its function (lazy: TensorFlow stays out of --help).


def cmd_openset(args: argparse.Namespace) -> int:
    from training.openset_report import OpenSetInputs, command

    known_only = tuple(args.known_only.split("=", 1)) if args.known_only else None
    if known_only is not None and len(known_only) != 2:
        raise ValueError(f"--known-only takes task=label, got {args.known_only!r}")
    inputs = OpenSetInputs(
        args.model, args.cache, args.split, args.unknown, args.work, task=args.task, known_only=known_only
    )
    print("\n".join(command(inputs, out=args.out, write_rules=args.calibrate)))
    return 0


def cmd_centroids(args: argparse.Namespace) -> int:
    from training.centroids import command

    print("\n".join(command(args.model, args.cache, args.split, args.unknown)))
    return 0


def cmd_exposure_split(args: argparse.Namespace) -> int:
    from training.exposure import exposure_split

    n_exposure, n_held = exposure_split(args.split, args.outsiders, args.out, args.heldout)
    print(f"wrote {args.out} ({n_exposure} exposure songs) and {args.heldout} ({n_held} songs held out)")
    return 0


def add_openset_commands(sub: Any) -> None:
    """Add this module's subcommands to ``songid``'s subparsers."""
    p = sub.add_parser("openset", help="open-set scores of an exported model: known songs against unknown")
    p.add_argument("--model", type=Path, default=Path("models"), help="model folder, or one holding one")
    p.add_argument("--cache", type=Path, required=True, help="mel cache of the known songs")
    p.add_argument("--split", type=Path, required=True, help="their split: train, val (threshold), test")
    p.add_argument("--unknown", type=Path, required=True, help="manifest of songs by unknown artists")
    p.add_argument("--work", type=Path, default=Path("data/openset"), help="kept outputs (resumable)")
    p.add_argument("--task", default="artist")
    p.add_argument("--known-only", default="", help="task=label: measure only those known songs")
    p.add_argument("--calibrate", action="store_true", help="write the model folder's openset.json")
    p.add_argument("--out", type=Path, default=Path("reports/openset-bundled.md"))
    p.set_defaults(func=cmd_openset)

    p = sub.add_parser("centroids", help="artist centroids of the embedding for the gallery (centroids.json)")
    p.add_argument(
        "--model", type=Path, required=True, help="model folder (the embedding is added if missing)"
    )
    p.add_argument("--cache", type=Path, required=True, help="mel cache of the model's songs")
    p.add_argument("--split", type=Path, required=True, help="their split: train (means), val (threshold)")
    p.add_argument("--unknown", type=Path, default=None, help="manifest of songs by others (calibration)")
    p.set_defaults(func=cmd_centroids)

    p = sub.add_parser("exposure-split", help="half of a manifest of outsiders as a split's exposure part")
    p.add_argument("--split", type=Path, required=True, help="the split to extend")
    p.add_argument(
        "--outsiders", type=Path, required=True, help="manifest of music by people outside the labels"
    )
    p.add_argument("--out", type=Path, required=True, help="the extended split")
    p.add_argument("--heldout", type=Path, required=True, help="manifest of the other half (unknown songs)")
    p.set_defaults(func=cmd_exposure_split)
