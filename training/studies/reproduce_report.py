"""``reports/<benchmark>.md``: Table 1 and its paired differences, time, plots and the exact config.

Written from the finished runs only (their run folder's ``eval/metrics.json``, or its record),
so it can be written at any time; a reproduction that has not finished every run is marked
partial with the count.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import statistics
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scipy.stats import t as t_dist

from training.augment import EFFECTS_FILE
from training.prepare import read_index
from training.run_folder import TRAINING_CURVES_FILE, confusion_file
from training.split import read_split
from training.studies.compare import paired_table, plot_table1, table1
from training.studies.paths import StudyPaths
from training.studies.reproduce_plan import AUG_SUFFIX, BASELINE_ROW, BenchmarkPlan, RunSpec, Section

SectionResults = dict[str, dict[str, dict[str, Any]]]  # row -> run key -> metrics

PROTOCOL_TEXT = {
    "song-split": "the paper's closed-set protocol: a seeded song-level 80/10/10 split stratified by "
    "artist, groups kept whole; one run per seed.",
    "unseen-voice": "test songs are those of voices never trained on (see the folds below); the other "
    "songs are split 90/10 into train and val, seeded; one run per (fold, seed).",
}


def collect(specs: Sequence[RunSpec], section: Section) -> SectionResults:
    """``{row: {run key: metrics}}`` of the finished runs of ``section``, in plan order."""
    out: SectionResults = {row.name: {} for row in section.rows}
    for spec in specs:
        if spec.section == section and spec.done:
            out[spec.row.name][spec.fold.run_key(spec.seed)] = spec.metrics()
    return {k: v for k, v in out.items() if v}


def _pairs(section: Section, task: str) -> list[tuple[str, str]]:
    """Comparisons worth a paired line: CNN vs baseline, multitask vs single task, +aug vs without."""
    names = {r.name for r in section.rows}
    single = f"cnn-{task}-only"
    pairs = [(single, BASELINE_ROW)] if single in names else []
    pairs += [(m, single) for m in ("multitask-alpha-ratio", "multitask-alpha-1") if single in names]
    pairs += [(r.name, r.name.removesuffix(AUG_SUFFIX)) for r in section.rows if r.augmented]
    return pairs


_TIME_KEYS = ("wall_s", "cpu_s", "epochs", "segments_per_s")


def _time_table(results: SectionResults, remaining: dict[str, int]) -> tuple[str, float, int]:
    """Per row: finished runs, mean wall and CPU seconds, epochs, median training throughput.

    A resumed run measured only the part after it resumed, so it is left out of the means (a row
    of resumed runs only reads ``-``) and kept in the total. Returns the table, the total wall
    seconds and the number of resumed runs.
    """
    lines = [
        "| row | finished runs | wall s / run | CPU s / run | epochs | train segments/s |",
        "|---|---|---|---|---|---|",
    ]
    total, n_resumed = 0.0, 0
    for row, runs in results.items():
        train = [m.get("train", {}) for m in runs.values()]
        whole = [t for t in train if not t.get("resumed")]
        resumed = len(train) - len(whole)
        n_resumed += resumed
        total += sum(float(t["wall_s"]) for t in train if t.get("wall_s") is not None)
        values = {k: [float(t[k]) for t in whole if t.get(k) is not None] for k in _TIME_KEYS}
        cells = [f"{statistics.mean(values[k]):.0f}" if values[k] else "-" for k in _TIME_KEYS[:3]]
        rate = values["segments_per_s"]
        cells.append(f"{statistics.median(rate):.1f}" if rate else "-")
        finished = f"{len(runs)}" + (f", {resumed} resumed" if resumed else "")
        lines.append(f"| {row} | {finished} (+{remaining.get(row, 0)} to run) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n", total, n_resumed


def _split_sizes(specs: Sequence[RunSpec], section: Section) -> str:
    seen: dict[str, dict[str, int]] = {}
    for spec in specs:
        if spec.section == section and not spec.row.augmented and spec.split_file.is_file():
            counts = json.loads(spec.split_file.read_text(encoding="utf-8"))["counts"]
            seen[spec.fold.run_key(spec.seed)] = counts
    return ", ".join(f"{k}: {c['train']}/{c['val']}/{c['test']}" for k, c in sorted(seen.items()))


def _copy_plots(specs: Sequence[RunSpec], section: Section, task: str, out_dir: Path) -> list[Path]:
    """A few PNGs of the first finished run of the most informative rows.

    A plot copied by an earlier report stays when its run folder is gone (a reproduction
    continued from the kept records on another machine).
    """
    wanted = [BASELINE_ROW, f"cnn-{task}-only", "multitask-alpha-ratio", f"cnn-{task}-only{AUG_SUFFIX}"]
    copied = []
    for row in wanted:
        first = next((s for s in specs if s.section == section and s.row.name == row and s.done), None)
        if first is None:
            continue
        key = first.fold.run_key(first.seed)
        for src in (confusion_file(task),) + ((TRAINING_CURVES_FILE,) if row == wanted[2] else ()):
            path = first.run.eval_dir / src
            dst = out_dir / f"{section.protocol}_{row}_{key}_{src}"
            if path.is_file():
                shutil.copyfile(path, dst)
            if dst.is_file():
                copied.append(dst)
    return copied


def _span(lo: float, hi: float, fmt: str = "") -> str:
    """``lo–hi`` in ``fmt``, or one value where both ends print the same."""
    a, b = format(lo, fmt), format(hi, fmt)
    return a if a == b else f"{a}–{b}"


def _reading_the_sd(results: SectionResults, *, several_folds: bool) -> str:
    """What the ± means for these test sizes and run counts."""
    test_sizes = [m["n_songs"] for runs in results.values() for m in runs.values()]
    if not test_sizes:
        return ""
    n_runs = max(len(runs) for runs in results.values())
    if n_runs > 1:
        half = float(t_dist.ppf(0.975, n_runs - 1)) / math.sqrt(n_runs)
        spread = (
            f"With {n_runs} runs the sd is itself rough, and a 95 % interval of a mean is about "
            f"± {half:.1f} sd (t distribution, {n_runs - 1} degrees of freedom)."
        )
    else:
        spread = "With a single run per row there is no sd yet."
    return (
        f"Reading the sd: a run tests {_span(min(test_sizes), max(test_sizes))} songs, so one song more "
        f"or less right moves song top-1 by {_span(1 / max(test_sizes), 1 / min(test_sizes), '.3f')}. "
        "The ± is "
        f"the sample sd over runs (seeds{' and folds' if several_folds else ''}): differences smaller "
        "than about one sd, or than one song, are not distinguishable from the split and "
        f"initialisation noise. {spread} The paired tables compare rows on the same split and seed, "
        "which removes the split-to-split part.\n"
    )


def _constant_answer(specs: Sequence[RunSpec], section: Section, task: str) -> str:
    """Song top-1 of always answering the test split's most frequent class: the floor to beat."""
    shares: dict[str, float] = {}
    for spec in specs:
        key = spec.fold.run_key(spec.seed)
        if spec.section != section or spec.row.augmented or key in shares or not spec.split_file.is_file():
            continue
        split = read_split(spec.split_file)
        test = [s.labels[task] for s in read_index(spec.cache_dir) if split.get(s.song_id) == "test"]
        if test:
            shares[key] = Counter(test).most_common(1)[0][1] / len(test)
    if not shares:
        return ""
    values = list(shares.values())
    return (
        f"Always answering the most frequent test {task} would score song top-1 "
        f"{_span(min(values), max(values), '.3f')} (mean {statistics.mean(values):.3f}) on these splits.\n"
    )


def _section(
    plan: BenchmarkPlan, specs: Sequence[RunSpec], section: Section, assets: Path
) -> tuple[str, float, int]:
    """The section's Markdown, its runs' total wall seconds and how many of them were resumed."""
    results = collect(specs, section)
    remaining: dict[str, int] = {}
    for spec in specs:
        if spec.section == section and not spec.done:
            remaining[spec.row.name] = remaining.get(spec.row.name, 0) + 1
    parts = [f"## Protocol `{section.protocol}`\n\n{PROTOCOL_TEXT[section.protocol]}\n"]
    folds = sorted({(s.fold.name, s.fold.test_voices) for s in specs if s.section == section})
    if any(voices for _, voices in folds):
        parts.append("Folds: " + "; ".join(f"`{name}` tests {', '.join(v)}" for name, v in folds) + ".\n")
    parts.append(f"Songs train/val/test per run: {_split_sizes(specs, section)}.\n")
    parts.append(_reading_the_sd(results, several_folds=len(folds) > 1))
    for task in section.report_tasks:
        parts.append(f"### {task}\n\n{_constant_answer(specs, section, task)}\n")
        parts.append(f"mean ± sd over runs (difference of means to `{BASELINE_ROW}`):\n")
        parts.append(table1(results, task, baseline=BASELINE_ROW))
        if len(folds) > 1:
            for name, _ in folds:
                per_fold = {
                    r: {k: m for k, m in runs.items() if k.startswith(f"{name}-")}
                    for r, runs in results.items()
                }
                parts.append(f"Fold `{name}` only:\n\n" + table1(per_fold, task, baseline=BASELINE_ROW))
        parts.append(
            "Paired per-run differences (same split and seed), mean ± sd (runs where the row is higher):\n"
        )
        parts.append(paired_table(results, task, _pairs(section, task)))
        if results:
            chart = assets / f"table1_{section.protocol}_{task}.png"
            plot_table1(results, task, chart, title=f"{plan.name}, {section.protocol}, {task}")
            if chart.is_file():
                parts.append(f"![{task}]({assets.name}/{chart.name})\n")
            for png in _copy_plots(specs, section, task, assets):
                parts.append(f"![{png.stem}]({assets.name}/{png.name})\n")
    table, wall, resumed = _time_table(results, remaining)
    parts.append(
        "### Time\n\nMeasured per run (training and evaluation; means over finished runs that were "
        "not resumed, since a resumed run measured only the part after it resumed; CPU s counts "
        "every thread, so on 2 busy cores it is about twice the wall time; train segments/s is the "
        f"median over runs of each run's median epoch, validation included):\n\n{table}"
    )
    return "\n".join(parts), wall, resumed


def _augmentation_text(plan: BenchmarkPlan, paths: StudyPaths, *, examples: int = 6) -> str:
    """How the `+aug` rows were made, with a few of the chains actually applied."""
    text = (
        "## Augmentation (`+aug` rows)\n\n"
        f"{plan.augment.copies if plan.augment else 0} augmented copies of every train song of the split, "
        "made at the waveform level and cached as log-mels (same labels and group; val and test songs "
        "are never augmented). Each copy runs a random chain of: music (a gamemusic excerpt mixed under "
        "the speech), white noise, band-pass, 8 kHz GSM 6.10 or mu-law round trip, gain with clipping; "
        "ranges in the configuration below. The CNN draws proportionally fewer segments per song copy, "
        "so an epoch holds as many training segments as without augmentation.\n"
    )
    effects = paths.caches / plan.augmented_cache_name / EFFECTS_FILE
    if effects.is_file():
        with effects.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        text += f"\n{len(rows)} copies cached; the first {min(examples, len(rows))} chains:\n\n"
        text += "\n".join(f"- `{r['song_id']}`: {r['steps']}" for r in rows[:examples]) + "\n"
    return text


def write_report(plan: BenchmarkPlan, specs: Sequence[RunSpec], report: Path, *, paths: StudyPaths) -> None:
    """Write ``report`` and its PNGs (in a folder named like it) from the finished runs of ``specs``."""
    assets = report.with_suffix("")
    assets.mkdir(parents=True, exist_ok=True)
    done = sum(s.done for s in specs)
    seeds = sorted({s.seed for s in specs})
    status = (
        f"**Complete**: all {len(specs)} runs finished."
        if done == len(specs)
        else f"**Partial**: {done} of {len(specs)} runs finished; the tables cover those only. "
        f"`songid reproduce {plan.name}` resumes where it stopped."
    )
    if plan.smoke:
        status = (
            "**Smoke configuration** (1 epoch, 2 segments per song): it proves the path, "
            f"its numbers mean nothing. {status}"
        )
    sections, wall, resumed = [], 0.0, 0
    for section in plan.sections:
        text, w, r = _section(plan, specs, section, assets)
        sections.append(text)
        wall, resumed = wall + w, resumed + r
    interrupted = f"; {resumed} resumed after an interruption, timed from the resume" if resumed else ""
    head = [
        f"# {plan.name}: the paper's Table 1 on real audio\n",
        status + "\n",
        f"Reproduce: `songid reproduce {plan.name}{' --smoke' if plan.smoke else ''}` "
        "(builds the benchmark if missing, prepares the mel cache, runs every row and seed, "
        "rewrites this report as runs finish). "
        f"Seeds {seeds}. Rows: `{BASELINE_ROW}` is logistic regression on per-segment mean and std of the "
        "96 log-mel bands and of 20 MFCCs (orthonormal DCT-II of the cached log-mel), evaluated by the "
        "same code as the CNN; the CNN rows are the paper's single-task and multitask networks "
        f"(tasks {plan.tasks[0]} and {plan.tasks[1]}; `alpha-ratio` weights the second loss by "
        "N_first / N_second).\n",
        f"Measured wall time of the finished runs: {wall / 3600:.2f} h ({wall:.0f} s{interrupted}).\n",
    ]
    if plan.remarks:
        head.append("Notes:\n\n" + "\n".join(f"- {r}" for r in plan.remarks) + "\n")
    config = json.dumps(plan.to_json(), indent=1, sort_keys=True)
    tail = [_augmentation_text(plan, paths)] if plan.augment else []
    tail += [f"## Exact configuration\n\n```json\n{config}\n```\n"]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(head + sections + tail), encoding="utf-8")
