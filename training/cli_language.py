"""``songid language-study``: the language protocol of ``reports/language.md`` (resumable)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

FOLDS = 2  # the first two attributed voices of every language with two or more
RECIPE_NAMES = ("mixed", "sung", "voiced")  # training.language_study.RECIPES, without its imports


def cmd_language_study(args: argparse.Namespace) -> int:
    from training.language_report import planned_runs, write
    from training.language_study import RECIPES, StudyPaths, study
    from training.study_records import read_records

    paths = StudyPaths(args.benchmarks, args.caches, args.runs, args.records)

    def report() -> None:
        records = read_records(paths.records)
        write(records, args.out, planned=planned_runs(args.recipes, args.folds, args.seeds, records))

    if args.report_only:
        report()
        print(f"report written to {args.out}")
        return 0
    from training.language_study_run import measure_run  # TensorFlow

    study(
        args.folds,
        args.seeds,
        recipes=tuple(RECIPES[name] for name in args.recipes),
        paths=paths,
        jobs=args.jobs,
        smoke=args.smoke,
        on_record=report,
        runner=measure_run,
    )
    report()
    print(f"report written to {args.out}")
    return 0


def cmd_language_split(args: argparse.Namespace) -> int:
    from training.language_bundle import write_bundle_split
    from training.language_study import RECIPES

    mixed = write_bundle_split(
        args.benchmarks,
        args.cache,
        args.out,
        recipe=RECIPES[args.recipe],
        previous=args.previous,
        seed=args.seed,
        jobs=args.jobs,
    )
    print(f"split written to {args.out}; train on the cache {mixed}")
    return 0


def cmd_language_card(args: argparse.Namespace) -> int:
    from frontend.artifact import load_artifact
    from training.card import with_section
    from training.language_report import LANGUAGE_HEADING, card_section
    from training.study_records import read_records

    labels = [label.id for label in load_artifact(args.model).labels["language"]]
    section = card_section(read_records(args.records), args.recipe, labels)
    card = args.model / "README.md"
    card.write_text(
        with_section(card.read_text(encoding="utf-8"), LANGUAGE_HEADING, section), encoding="utf-8"
    )
    print(f"{card}: language section from {args.records} (recipe {args.recipe})")
    return 0


def add_language_commands(sub: Any) -> None:
    p = sub.add_parser(
        "language-study",
        help="language protocol: unseen speakers, vocals against zxx, sung languages (resumable)",
        description="Needs the benchmarks voices, tuxpaint, fillets, gcompris, gamemusic and dplace "
        "(`songid benchmark ...`). One record per (fold, seed) run; the report is rewritten after each.",
    )
    p.add_argument("--folds", nargs="+", type=int, default=list(range(FOLDS)))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--recipes", nargs="+", default=list(RECIPE_NAMES), choices=RECIPE_NAMES)
    p.add_argument("--benchmarks", type=Path, default=Path("data/benchmarks"))
    p.add_argument("--caches", type=Path, default=Path("data/cache"))
    p.add_argument("--runs", type=Path, default=Path("data/runs/language"))
    p.add_argument("--records", type=Path, default=Path("reports/runs/language"))
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument(
        "--smoke", action="store_true", help="one epoch a run: checks the pipeline, not the method"
    )
    p.add_argument("--out", type=Path, default=Path("reports/language.md"))
    p.add_argument(
        "--report-only", action="store_true", help="rewrite the report from the records; run nothing"
    )
    p.set_defaults(func=cmd_language_study)

    p = sub.add_parser(
        "language-split",
        help="the bundled model's songs: every benchmark cached, split and mixed (then `songid train`)",
    )
    p.add_argument("--benchmarks", type=Path, default=Path("data/benchmarks"))
    p.add_argument("--cache", type=Path, required=True, help="mel cache of every benchmark (created)")
    p.add_argument("--out", type=Path, required=True, help="split JSON to write")
    p.add_argument("--recipe", default="voiced", choices=RECIPE_NAMES)
    p.add_argument("--previous", type=Path, default=None, help="a split whose songs keep their role")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.set_defaults(func=cmd_language_split)

    p = sub.add_parser("language-card", help="the model card's language section, from the language study")
    p.add_argument("--model", type=Path, required=True, help="model folder (its README.md is rewritten)")
    p.add_argument("--records", type=Path, default=Path("reports/runs/language"))
    p.add_argument("--recipe", default="voiced", choices=RECIPE_NAMES)
    p.set_defaults(func=cmd_language_card)
