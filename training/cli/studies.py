"""``songid`` subcommands that run a study (resumable, one record per finished run) and write its report:
``compare``, ``reproduce``, ``openset-study``, ``enrolment-study``, ``language-study``, ``language-split``
and ``language-card``. Each study's folders and smoke budget are :mod:`training.studies.paths`'."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from training.cli.config import add_config_args, config_from_args
from training.studies.paths import StudyPaths, add_path_args, add_smoke_arg, paths_from_args

# Every subcommand imports what it runs inside its function (lazy: TensorFlow stays out of --help).

LANGUAGE_FOLDS = 2  # the first two attributed voices of every language with two or more
RECIPE_NAMES = ("mixed", "sung", "voiced")  # training.studies.language.RECIPES, without its imports


def cmd_compare(args: argparse.Namespace) -> int:
    from training.studies.compare import compare, paper_variants, table1

    config = config_from_args(args)
    first, second = args.tasks
    results = compare(args.cache, args.out, config, seeds=args.seeds, variants=paper_variants(first, second))
    text = "".join(
        f"\n## {task}\n\n" + table1(results, task, baseline=f"cnn-{task}-only") for task in (first, second)
    )
    (args.out / "table1.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from training.studies.reproduce import reproduce

    paths = StudyPaths(args.benchmarks, args.caches, args.runs, args.reports / "runs", args.reports)
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


def cmd_openset_study(args: argparse.Namespace) -> int:
    from training.studies.openset import plan_runs, study
    from training.studies.openset_report import write
    from training.studies.records import read_records

    paths = paths_from_args(args)
    planned = len(plan_runs(args.only, args.seeds, paths, jobs=args.jobs)[0])

    def report() -> None:
        write(read_records(paths.records), args.out, planned=planned)

    from training.studies.openset_run import measure_run  # TensorFlow

    study(
        args.only,
        args.seeds,
        paths=paths,
        jobs=args.jobs,
        smoke=args.smoke,
        on_record=report,
        runner=measure_run,
    )
    report()
    print(f"report written to {args.out}")
    return 0


def cmd_enrolment_study(args: argparse.Namespace) -> int:
    from training.studies.enrolment import study
    from training.studies.enrolment_report import write

    write(study(paths_from_args(args), args.work), args.out)
    print(f"report written to {args.out}")
    return 0


def cmd_language_study(args: argparse.Namespace) -> int:
    from training.studies.language import RECIPES, study
    from training.studies.language_report import planned_runs, write
    from training.studies.records import read_records

    paths = paths_from_args(args)

    def report() -> None:
        records = read_records(paths.records)
        write(records, args.out, planned=planned_runs(args.recipes, args.folds, args.seeds, records))

    if args.report_only:
        report()
        print(f"report written to {args.out}")
        return 0
    from training.studies.language_run import measure_run  # TensorFlow

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
    from training.studies.language import RECIPES
    from training.studies.language_bundle import write_bundle_split

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
    from training.studies.language_report import LANGUAGE_HEADING, card_section
    from training.studies.records import read_records

    labels = [label.id for label in load_artifact(args.model).labels["language"]]
    section = card_section(read_records(args.records), args.recipe, labels)
    card = args.model / "README.md"
    card.write_text(
        with_section(card.read_text(encoding="utf-8"), LANGUAGE_HEADING, section), encoding="utf-8"
    )
    print(f"{card}: language section from {args.records} (recipe {args.recipe})")
    return 0


def cmd_language_expert_study(args: argparse.Namespace) -> int:
    from service.expert.model import LanguageExpert
    from training.expert_calibration import ExpertAnswers, VoiceNetwork
    from training.run_folder import write_json_atomic
    from training.studies.language import CACHE, VOICED, StudyRun, load_songs
    from training.studies.language_expert import measure_fold
    from training.studies.language_expert_report import write
    from training.studies.records import read_records

    paths = paths_from_args(args)
    cache = paths.caches / CACHE
    songs = load_songs(paths.benchmarks, cache, jobs=args.jobs)
    expert = LanguageExpert(args.expert, cpu_threads=args.threads)
    for fold in args.folds:
        record = args.out_records / f"fold{fold}.json"
        if record.is_file():
            continue
        run = StudyRun(VOICED, fold, 0, paths)  # the language study's run of this fold, trained first
        network = VoiceNetwork(run.run_dir / "export" / "language-study", cache)
        answers = ExpertAnswers(paths.runs.parent / "language-expert" / f"answers-fold{fold}.json", expert)
        record.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            record, measure_fold(songs, fold, voice=network.voice, expert=expert, answers=answers)
        )
    write(read_records(args.out_records), read_records(paths.records), args.out)
    print(f"section written to {args.out}")
    return 0


def add_study_commands(sub: Any) -> None:
    """Add this module's subcommands to ``songid``'s subparsers."""
    p = sub.add_parser("compare", help="baselines vs multitask over seeds (Table 1)")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="comparison folder (resumable)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    add_config_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("reproduce", help="Table 1 on a real-audio benchmark, end to end (resumable)")
    p.add_argument("names", nargs="+", choices=("gamemusic", "voices", "tuxpaint", "fillets"))
    p.add_argument(
        "--seeds", type=int, nargs="+", default=None, help="seeds to run now (default: the plan's)"
    )
    p.add_argument("--smoke", action="store_true", help="1 epoch, 2 segments per song: proves the path")
    p.add_argument("--report-only", action="store_true", help="write the report from finished runs")
    add_path_args(p, "reproduce", records=False)
    p.add_argument("--reports", type=Path, default=StudyPaths().reports, help="reports (records in runs/)")
    p.set_defaults(func=cmd_reproduce, jobs=min(2, os.cpu_count() or 1))

    p = sub.add_parser(
        "openset-study", help="open-set protocol: leave-artists-out, recipes x scores (resumable)"
    )
    p.add_argument("--only", nargs="+", default=["gamemusic", "voices"], choices=("gamemusic", "voices"))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    add_path_args(p, "openset")
    add_smoke_arg(p)
    p.add_argument("--out", type=Path, default=Path("reports/openset.md"))
    p.set_defaults(func=cmd_openset_study)

    p = sub.add_parser("enrolment-study", help="enrol held-out composers from k songs (after openset-study)")
    add_path_args(p, "openset")  # it reads the open-set study's runs and records
    p.add_argument(
        "--work", type=Path, default=StudyPaths.named("enrolment").records, help="per-fold records"
    )
    p.add_argument("--out", type=Path, default=Path("reports/enrolment.md"))
    p.set_defaults(func=cmd_enrolment_study)

    p = sub.add_parser(
        "language-study",
        help="language protocol: unseen speakers, vocals against zxx, sung languages (resumable)",
        description="Needs the benchmarks voices, tuxpaint, fillets, gcompris, gamemusic and dplace "
        "(`songid benchmark ...`). One record per (fold, seed) run; the report is rewritten after each.",
    )
    p.add_argument("--folds", nargs="+", type=int, default=list(range(LANGUAGE_FOLDS)))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--recipes", nargs="+", default=list(RECIPE_NAMES), choices=RECIPE_NAMES)
    add_path_args(p, "language")
    add_smoke_arg(p)
    p.add_argument("--out", type=Path, default=Path("reports/language.md"))
    p.add_argument(
        "--report-only", action="store_true", help="rewrite the report from the records; run nothing"
    )
    p.set_defaults(func=cmd_language_study)

    p = sub.add_parser(
        "language-split",
        help="the bundled model's songs: every benchmark cached, split and mixed (then `songid train`)",
    )
    p.add_argument("--benchmarks", type=Path, default=StudyPaths().benchmarks)
    p.add_argument("--cache", type=Path, required=True, help="mel cache of every benchmark (created)")
    p.add_argument("--out", type=Path, required=True, help="split JSON to write")
    p.add_argument("--recipe", default="voiced", choices=RECIPE_NAMES)
    p.add_argument("--previous", type=Path, default=None, help="a split whose songs keep their role")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.set_defaults(func=cmd_language_split)

    p = sub.add_parser("language-card", help="the model card's language section, from the language study")
    p.add_argument("--model", type=Path, required=True, help="model folder (its README.md is rewritten)")
    p.add_argument("--records", type=Path, default=StudyPaths.named("language").records)
    p.add_argument("--recipe", default="voiced", choices=RECIPE_NAMES)
    p.set_defaults(func=cmd_language_card)

    p = sub.add_parser(
        "language-expert-study",
        help="the language expert gated by the network, on the language study's folds (after language-study)",
    )
    p.add_argument("--folds", nargs="+", type=int, default=list(range(LANGUAGE_FOLDS)))
    p.add_argument("--expert", type=Path, required=True, help="a verified expert (songid-expert fetch)")
    p.add_argument("--threads", type=int, default=0, help="the expert's CPU threads (0: its default)")
    add_path_args(p, "language")  # the language study's runs (its voiced recipe) and records
    p.add_argument("--out-records", type=Path, default=StudyPaths.named("language-expert").records)
    p.add_argument("--out", type=Path, default=Path("reports/language.md"), help="the section goes here")
    p.set_defaults(func=cmd_language_expert_study)
