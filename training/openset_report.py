"""``songid openset``: the open-set scores of :mod:`training.openset` measured on an exported model,
written to a Markdown report.

Known songs come from a prepared mel cache and its split (train: statistics, val: threshold,
test: figures); unknown songs from a manifest of music by people the model never saw (for
gamemusic, ``outsiders.csv``). Each song's outputs are kept in ``<work>/outputs.npz``, so a rerun
only measures.
"""

from __future__ import annotations

import csv
import logging
import platform
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from frontend.artifact import CARD_FILE, load_artifact
from frontend.model_folder import write_openset
from frontend.openset import OpenSetRule
from training.card import with_openset
from training.catalog import labelled
from training.openset import (
    VAL_FALSE_REJECTS,
    Network,
    OpenSetFigures,
    SongOutputs,
    keep_outputs,
    measure,
    measure_every_score,
    restore_outputs,
    verdict,
)
from training.prepare import mel_path, read_index
from training.split import SPLITS, read_split

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenSetInputs:
    model_dir: Path
    cache_dir: Path
    split_file: Path
    unknown_manifest: Path
    work_dir: Path
    task: str = "artist"
    # (task, label): also measure on only the known val and test songs with that label (e.g. the
    # unknown songs' own domain: ("language", "zxx") for instrumental music); statistics always use
    # every training song
    known_only: tuple[str, str] | None = None


Domain = tuple[str, str] | None  # which known val and test songs a measurement keeps (None: all)


def _outputs(
    inputs: OpenSetInputs, domain: Domain = None
) -> tuple[dict[str, list[SongOutputs]], dict[str, np.ndarray], list[str]]:
    artifact = load_artifact(inputs.model_dir)
    network = Network(artifact)
    ids = [label.id for label in artifact.labels[inputs.task]]
    assignment = read_split(inputs.split_file)
    # train, val and test only (a split's exposure songs were trained on as outliers), each
    # labelled for the task: a song with no label for it is neither known nor unknown there
    known = labelled(read_index(inputs.cache_dir), inputs.task)
    songs = [s for s in known if assignment.get(s.song_id) in SPLITS]
    unknown_paths = manifest_paths(inputs.unknown_manifest, task=inputs.task, known=ids)
    store = inputs.work_dir / "outputs.npz"
    if store.is_file():
        cached = dict(np.load(store))
    else:
        cached = {}
        for s in tqdm(songs, desc="known songs"):
            keep_outputs(cached, s.song_id, network.song(np.load(mel_path(inputs.cache_dir, s.song_id))))
        for i, path in enumerate(tqdm(unknown_paths, desc="unknown songs")):
            keep_outputs(cached, f"unknown{i}", network.song_from_file(path))
        inputs.work_dir.mkdir(parents=True, exist_ok=True)
        np.savez(store, **cached)
    groups: dict[str, list[SongOutputs]] = {"train": [], "val": [], "test": [], "unknown": []}
    labels: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for s in songs:
        part = assignment[s.song_id]
        if part != "train" and domain and s.labels[domain[0]] != domain[1]:
            continue
        groups[part].append(restore_outputs(cached, s.song_id, network.tasks))
        labels[part].append(ids.index(s.labels[inputs.task]))
    groups["unknown"] = [
        restore_outputs(cached, f"unknown{i}", network.tasks) for i in range(len(unknown_paths))
    ]
    return groups, {k: np.array(v) for k, v in labels.items()}, network.tasks


def _shown(manifest: Path) -> str:
    """A manifest as reports name it: its folder (the benchmark) and file name."""
    return f"{manifest.parent.name}/{manifest.name}"


def manifest_paths(manifest: Path, *, task: str | None = None, known: Iterable[str] = ()) -> list[Path]:
    """The manifest's files; with ``task``, only those whose label for it is none of ``known`` (a
    song in a language the model knows is no unknown-language song)."""
    excluded = set(known)
    with manifest.open(newline="", encoding="utf-8") as f:
        return [
            manifest.parent / row["path"]
            for row in csv.DictReader(f)
            if task is None or (row.get(task) or "") not in excluded
        ]


@dataclass(frozen=True)
class Section:
    domain: Domain
    figures: list[OpenSetFigures]  # best AUROC first
    counts: dict[str, int]  # songs per part
    elsewhere: dict[str, dict[int, int]]  # other task -> label index -> unknown songs answered it


def _section(inputs: OpenSetInputs, domain: Domain) -> Section:
    groups, labels, tasks = _outputs(inputs, domain)
    figures = sorted(measure_every_score(groups, labels, inputs.task)[1].values(), key=lambda f: -f.auroc)
    elsewhere = {t: _top_labels(groups["unknown"], t) for t in tasks if t != inputs.task}
    return Section(domain, figures, {k: len(v) for k, v in groups.items()}, elsewhere)


def run(inputs: OpenSetInputs, report: Path) -> list[Section]:
    """Measure every score on all known songs (and on ``known_only``'s) and write ``report``."""
    started = time.time()
    domains: list[Domain] = [None] if inputs.known_only is None else [None, inputs.known_only]
    sections = [_section(inputs, domain) for domain in domains]
    report.write_text(_markdown(inputs, sections, time.time() - started), encoding="utf-8")
    return sections


def calibrate(inputs: OpenSetInputs) -> dict[str, OpenSetRule]:
    """A ``max_probability`` rule for ``inputs.task``, its threshold rejecting VAL_FALSE_REJECTS of
    the validation songs, with the figures measured on the test and unknown songs.

    Only that task gets a rule: a rule for another task would reject its known songs without a
    measured gain, since the unknown songs here are unknown for ``inputs.task`` alone.
    """
    groups, labels, _ = _outputs(inputs)
    figures = measure(
        lambda song: float(song.probs[inputs.task].max()),
        "max_probability",
        val=groups["val"],
        test=groups["test"],
        test_labels=labels["test"],
        unknown=groups["unknown"],
        task=inputs.task,
    )
    calibration = {
        "val_songs": len(groups["val"]),
        "val_false_rejects": VAL_FALSE_REJECTS,
        "test_songs": figures.n_known,
        "test_false_rejects": round(figures.false_rejects, 4),
        "unknown_songs": f"{figures.n_unknown} ({_shown(inputs.unknown_manifest)})",
        "unknown_false_accepts": round(figures.false_accepts, 4),
        "auroc": round(figures.auroc, 4),
        "measured": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    return {inputs.task: OpenSetRule("max_probability", round(figures.threshold, 6), calibration)}


def command(inputs: OpenSetInputs, *, out: Path, write_rules: bool) -> list[str]:
    """``songid openset``: the report, or (``write_rules``) the model folder's ``openset.json``."""
    if write_rules:
        # the other tasks' rules stay as they are
        artifact = write_openset(
            inputs.model_dir, {**load_artifact(inputs.model_dir).openset, **calibrate(inputs)}
        )
        card = artifact.root / CARD_FILE
        if card.is_file():
            card.write_text(
                with_openset(card.read_text(encoding="utf-8"), artifact.openset), encoding="utf-8"
            )
        return [
            f"{t}: known at {r.score} >= {r.threshold:g} ({r.calibration})"
            for t, r in artifact.openset.items()
        ]
    lines = [
        f"{section.domain or 'all'} {f.score}: AUROC {f.auroc:.3f}, false rejects {f.false_rejects:.1%}, "
        f"false accepts {f.false_accepts:.1%}"
        for section in run(inputs, out)
        for f in section.figures
    ]
    return [*lines, f"report written to {out}"]


def _top_labels(songs: list[SongOutputs], task: str) -> dict[int, int]:
    tops = [int(np.argmax(s.probs[task])) for s in songs]
    return {k: tops.count(k) for k in sorted(set(tops))}


TABLE_HEAD = (
    "| score | AUROC known vs unknown | false rejects (test) | false accepts (unknown) "
    "| top-1 of accepted |\n|---|---|---|---|---|"
)


def _markdown(inputs: OpenSetInputs, sections: list[Section], seconds: float) -> str:
    artifact = load_artifact(inputs.model_dir)
    parts = []
    for section in sections:
        title = (
            "All known songs"
            if section.domain is None
            else f"Known songs whose `{section.domain[0]}` is `{section.domain[1]}`"
        )
        rows = "\n".join(
            f"| `{f.score}` | {f.auroc:.3f} | {f.false_rejects:.1%} | {f.false_accepts:.1%} "
            f"| {f.accepted_top1:.3f} |"
            for f in section.figures
        )
        counts = ", ".join(f"{k} {n}" for k, n in section.counts.items())
        elsewhere = "; ".join(
            f"`{task}`: " + ", ".join(f"{artifact.labels[task][k].id} {n}" for k, n in tops.items())
            for task, tops in section.elsewhere.items()
        )
        parts.append(
            f"## {title}\n\nSongs: {counts}.\n\n"
            f"{TABLE_HEAD}\n{rows}\n\n{verdict(section.figures[0])}\n\n"
            f"The unknown songs' answers on the other tasks: {elsewhere}.\n"
        )
    body = "\n".join(parts)
    return f"""# Open set: post-hoc scores on `{artifact.name}` version {artifact.version}

`songid openset`, {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, {seconds:.0f} s on
{platform.machine()} (Python {platform.python_version()}); task `{inputs.task}`. The statistics come from
the training songs, the threshold of each score from the validation songs (set to reject
{VAL_FALSE_REJECTS:.0%} of them), the figures from the test songs (known) and
`{_shown(inputs.unknown_manifest)}` (unknown: its songs whose `{inputs.task}` is none the model
knows). No retraining: the scores read the exported network's outputs (the trunk's `embedding`
exposed where the export lacks it).

{body}"""
