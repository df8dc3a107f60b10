"""``reports/openset.md`` from the open-set study's run records (:mod:`training.studies.openset`)."""

from __future__ import annotations

import os
import platform
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from training.openset import VAL_FALSE_REJECTS, OpenSetFigures, verdict
from training.studies.openset import BENCHMARKS, mean_range

METRICS = (
    ("auroc", "AUROC", "{:.3f}"),
    ("false_rejects", "false rejects", "{:.1%}"),
    ("false_accepts", "false accepts", "{:.1%}"),
    ("accepted_top1", "top-1 of accepted", "{:.3f}"),
)


def _cell(values: list[float], fmt: str) -> str:
    mean, low, high = mean_range(values)
    if mean != mean:
        return "n/a"
    if len(values) == 1 or low == high:
        return fmt.format(mean)
    return f"{fmt.format(mean)} ({fmt.format(low)}-{fmt.format(high)})"


def _mean_figures(score: str, runs: list[dict[str, Any]]) -> OpenSetFigures:
    """The score's figures averaged over runs, for the verdict against the targets."""
    rows = [r["scores"][score] for r in runs]
    mean = {k: mean_range([row[k] for row in rows])[0] for k, _, _ in METRICS}
    return OpenSetFigures(
        score=score,
        threshold=float("nan"),
        n_known=sum(row["n_known"] for row in rows),
        n_unknown=sum(row["n_unknown"] for row in rows),
        **mean,
    )


def _recipe_section(recipe: str, runs: list[dict[str, Any]]) -> tuple[str, OpenSetFigures]:
    scores = sorted(runs[0]["scores"], key=lambda s: -mean_range([r["scores"][s]["auroc"] for r in runs])[0])
    head = (
        "| score | " + " | ".join(label for _, label, _ in METRICS) + " | no-evidence known (gate / none) |"
    )
    lines = [head, "|---" * (len(METRICS) + 2) + "|"]
    for score in scores:
        cells = [_cell([r["scores"][score][k] for r in runs], fmt) for k, _, fmt in METRICS]
        gated = sum(r["no_evidence"]["known_with_gate"][score] for r in runs)
        ungated = sum(r["no_evidence"]["known_without_gate"][score] for r in runs)
        items = sum(r["no_evidence"]["items"] for r in runs)
        lines.append(f"| `{score}` | " + " | ".join(cells) + f" | {gated} / {ungated} of {items} |")
    top1 = _cell([r["closed_set_song_top1"] for r in runs], "{:.3f}")
    minutes = sum(r["wall_s"] for r in runs) / 60
    keys = ", ".join(sorted(f"fold{r['fold']}-seed{r['seed']}" for r in runs))
    best = _mean_figures(scores[0], runs)
    meeting = [s for s in scores if verdict(_mean_figures(s, runs)).endswith(": met.")]
    also = (
        f" Scores whose mean figures meet every target: {', '.join(f'`{s}`' for s in meeting)}."
        if meeting
        else " No score's mean figures meet every target."
    )
    text = (
        f"### Recipe `{recipe}`\n\n{len(runs)} runs ({keys}); {minutes:.0f} min in all. Closed-set song "
        f"top-1 on the known test songs: {top1}.\n\n" + "\n".join(lines) + f"\n\n{verdict(best)}{also}\n"
    )
    return text, best


def _benchmark_section(name: str, runs: list[dict[str, Any]]) -> str:
    by_recipe: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_recipe[r["recipe"]["name"]].append(r)
    folds = sorted({(r["fold"], tuple(r["held_out"])) for r in runs})
    held = "\n".join(f"- fold{k}: {', '.join(h)}" for k, h in folds)
    counts = []
    for fold, _ in folds:
        first = min(
            (r for r in runs if r["fold"] == fold), key=lambda r: (r["recipe"]["name"] != "paper", r["seed"])
        )
        songs = {k: v for k, v in first["songs"].items() if k != "exposure"}
        exposure = max(r["songs"].get("exposure", 0) for r in runs if r["fold"] == fold)
        counts.append(
            f"- fold{fold}: "
            + ", ".join(f"{k} {v}" for k, v in songs.items())
            + f"; exposure {exposure} (that recipe only)"
        )
    parts = [
        f"## {name}\n\nHeld out (their songs are the unknown test songs):\n{held}\n\nSongs (seed 0):\n"
        + "\n".join(counts)
        + "\n"
    ]
    bests = []
    for recipe in sorted(by_recipe, key=lambda k: k != "paper"):
        text, best = _recipe_section(recipe, by_recipe[recipe])
        parts.append(text)
        bests.append((recipe, best))
    ranked = sorted(bests, key=lambda rb: -rb[1].auroc)
    parts.append(
        "Best of each recipe by mean AUROC: "
        + "; ".join(f"`{r}` with `{b.score}` {b.auroc:.3f}" for r, b in ranked)
        + ".\n"
    )
    return "\n".join(parts)


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        model = next(
            (ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if "model name" in ln), ""
        )
    cores = f"{os.cpu_count()} CPU cores"
    return f"{platform.machine()} {model}, {cores}, Python {platform.python_version()}"


def summary(records: list[dict[str, Any]]) -> str:
    """Mean AUROC of every (recipe, score) per benchmark, and their mean over benchmarks."""
    cells: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for bench in BENCHMARKS:
        runs = [r for r in records if r["benchmark"] == bench]
        for recipe in sorted({r["recipe"]["name"] for r in runs}):
            chosen = [r for r in runs if r["recipe"]["name"] == recipe]
            for score in chosen[0]["scores"]:
                cells[(recipe, score)][bench] = mean_range([r["scores"][score]["auroc"] for r in chosen])[0]
    benches = [b for b in BENCHMARKS if any(b in v for v in cells.values())]
    rows = sorted(cells.items(), key=lambda kv: -float(np.mean(list(kv[1].values()))))
    lines = ["| recipe | score | " + " | ".join(benches) + " | mean |", "|---" * (len(benches) + 3) + "|"]
    for (recipe, score), by in rows:
        values = [f"{by[b]:.3f}" if b in by else "n/a" for b in benches]
        lines.append(
            f"| `{recipe}` | `{score}` | " + " | ".join(values) + f" | {np.mean(list(by.values())):.3f} |"
        )
    note = (
        "\n\nA recipe missing a benchmark has no mean: outlier exposure needs music by outsiders, which "
        "voices (speech) has none of."
        if any(len(by) < len(benches) for by in cells.values())
        else ""
    )
    return (
        "## Summary: mean AUROC, known test songs against held-out artists\n\n"
        + "\n".join(lines)
        + note
        + "\n"
    )


def render(records: list[dict[str, Any]], *, planned: int) -> str:
    """The report of the finished records of a study of ``planned`` runs."""
    smoke = any(r.get("smoke") for r in records)
    by_benchmark: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_benchmark[r["benchmark"]].append(r)
    sections = "\n".join(
        _benchmark_section(name, by_benchmark[name]) for name in BENCHMARKS if name in by_benchmark
    )
    budgets = "; ".join(
        f"{b.name}: {b.train.epochs} epochs of {b.train.segments_per_song} segments a song, "
        f"tasks {', '.join(b.train.tasks)}"
        for b in BENCHMARKS.values()
    )
    status = "complete" if len(records) >= planned else f"PARTIAL: {len(records)} of {planned} runs finished"
    return f"""# Open set: unknown artists, leave-artists-out

`songid openset-study`, {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, {machine()}.
Study {status}.{" SMOKE RUN: one epoch; the figures mean nothing." if smoke else ""}

Each run trains the paper's network on the known artists' songs (split 80/10/10 by song), is
exported as the service loads it, and every score is measured on the export: statistics from the
training songs, the operating threshold from the validation songs (it rejects
{VAL_FALSE_REJECTS:.0%} of them), the figures from the known test songs against every song of the
held-out artists. Cells give the mean over runs (folds x seeds) and, in brackets, the range.
`top-1 of accepted` is the closed-set song top-1 among the accepted known test songs.
`no-evidence known` counts the items of the no-evidence corpus (noise, silence, DC, tones,
clicks, clips too short; one set per run) answered with a known artist, with the service's
evidence gate before the score and without it.

Recipes: `paper` is the paper's training; `outlier-exposure` adds music by people outside every
fold (gamemusic's `outsiders.csv`, training only) whose artist head is trained towards the
uniform distribution (Hendrycks et al. 2019, weight 0.5). Budgets: {budgets}.

Scores (training/openset.py): `max_probability` (the top song-level softmax probability: the
service's rule for trained artists), `centroid_cosine` (centred cosine to each artist's mean
embedding: the service's gallery scale, where enrolled artists join), `mahalanobis` (class means
of the trunk's 480-d embedding, one shared Ledoit-Wolf covariance), `lda_cosine` (cosine to class
means after LDA), `nearest_song` (centred cosine to the closest training song).

{summary(records)}
{sections}"""


def write(records: list[dict[str, Any]], out: Path, *, planned: int) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(records, planned=planned), encoding="utf-8")
