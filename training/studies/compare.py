"""The paper's Table 1: single-task baselines against multitask models, over several seeds.

Every (variant, seed) run lives in ``<out>/runs/<variant>/seed<k>/`` and is skipped when its
metrics exist, so an interrupted comparison starts again where it stopped.

Results everywhere here are ``{row name: {run key: metrics}}``, where a run key names the
(fold and) seed of a run (``seed0``, ``fold1-seed2``) and metrics is what
:func:`training.evaluate.evaluate_run` returns (``metrics["tasks"][task][level][metric]``).
"""

from __future__ import annotations

import csv
import logging
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from training.config import TrainConfig
from training.evaluate import evaluate_run
from training.prepare import read_index
from training.run_folder import RunFolder
from training.split import split_songs, write_split

log = logging.getLogger(__name__)

Results = Mapping[str, Mapping[str, Mapping[str, Any]]]  # row -> run key -> metrics

TABLE_COLUMNS = (
    ("segment", "auc_roc", "seg AUC-ROC"),
    ("segment", "auc_pr", "seg AUC-PR"),
    ("song", "auc_roc", "song AUC-ROC"),
    ("song", "auc_pr", "song AUC-PR"),
    ("song", "top1", "song top-1"),
    ("song", "macro_f1", "song macro-F1"),
)


@dataclass(frozen=True)
class Variant:
    name: str
    tasks: tuple[str, ...]
    alpha: float | None = None


def paper_variants(first: str, second: str) -> list[Variant]:
    """Baselines for each task, multitask with the paper's alpha and with alpha = 1."""
    return [
        Variant(f"cnn-{first}-only", (first,)),
        Variant(f"cnn-{second}-only", (second,)),
        Variant("multitask-alpha-ratio", (first, second), None),
        Variant("multitask-alpha-1", (first, second), 1.0),
    ]


def split_for_seed(cache_dir: Path, out_dir: Path, seed: int, stratify: str) -> Path:
    path = out_dir / "splits" / f"seed{seed}.json"
    if not path.is_file():
        assignment = split_songs(read_index(cache_dir), seed=seed, stratify=stratify)
        write_split(path, assignment, seed=seed, stratify=stratify)
    return path


def _history_stats(history_csv: Path) -> dict[str, Any]:
    """Epochs run and median training throughput (segments/s, first epoch excluded) of a run."""
    if not history_csv.is_file():
        return {}
    with history_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rates = [float(r["segments_per_s"]) for r in rows if r.get("segments_per_s")]
    return {
        "epochs": len(rows),
        "segments_per_s": statistics.median(rates[1:] or rates) if rates else None,
        "best_val_loss": min((float(r["val_loss"]) for r in rows if r.get("val_loss")), default=None),
    }


def run_variant(cache_dir: Path, split_file: Path, run_dir: Path, config: TrainConfig) -> dict[str, Any]:
    """Train and evaluate one CNN run unless its metrics exist already.

    A run whose training finished (``model.keras`` written) but whose evaluation did not is only
    evaluated; an interrupted training resumes from its last epoch (Keras ``BackupAndRestore``).

    Returns:
        the evaluation metrics plus ``train``: epochs, segments/s, ``wall_s`` and ``cpu_s``
        (wall-clock and CPU seconds spent in this call, training and evaluation).
    """
    run = RunFolder(run_dir)
    if run.is_finished:
        log.info("kept finished run %s", run_dir)
        return run.read_metrics()
    # lazy: heavy import (TensorFlow), which the tables and reports of this module never need
    from training.train import train

    start, cpu_start = time.monotonic(), time.process_time()
    resumed = run.backup.is_dir() or run.is_trained
    if not run.is_trained:
        train(cache_dir, split_file, run_dir, config)
    metrics = evaluate_run(run_dir, cache_dir)
    metrics["train"] = {
        **_history_stats(run.history),
        "wall_s": time.monotonic() - start,
        "cpu_s": time.process_time() - cpu_start,  # all threads; unaffected by other processes
        "resumed": resumed,
    }
    run.write_metrics(metrics)
    return metrics


def compare(
    cache_dir: Path, out_dir: Path, base: TrainConfig, *, seeds: list[int], variants: list[Variant]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Run every variant on every seed's split; returns ``{variant: {"seed<k>": metrics}}``."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for seed in seeds:
        split_file = split_for_seed(cache_dir, out_dir, seed, base.stratify)
        for v in variants:
            config = replace(base, tasks=v.tasks, alpha=v.alpha, seed=seed)
            run_dir = out_dir / "runs" / v.name / f"seed{seed}"
            results.setdefault(v.name, {})[f"seed{seed}"] = run_variant(
                cache_dir, split_file, run_dir, config
            )
    return results


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; 0 for a single value)."""
    if not values:
        raise ValueError("mean_sd needs at least one value, got []")
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def format_mean_sd(values: list[float], *, signed: bool) -> str:
    """``mean ± sd`` to 3 decimals; one value has no sd and is shown alone."""
    mean, sd = mean_sd(values)
    text = f"{mean:+.3f}" if signed else f"{mean:.3f}"
    return text if len(values) == 1 else f"{text} ± {sd:.3f}"


def metric_values(runs: Mapping[str, Mapping[str, Any]], task: str, level: str, key: str) -> dict[str, float]:
    """``{run key: value}`` of one metric, for the runs that predict ``task`` and define it."""
    out = {}
    for run_key, m in runs.items():
        value = m.get("tasks", {}).get(task, {}).get(level, {}).get(key)
        if value is not None:
            out[run_key] = float(value)
    return out


def paired_delta(
    results: Results, task: str, level: str, key: str, *, row: str, reference: str
) -> list[float]:
    """Per-run differences ``row - reference`` over the run keys both have (same split, same seed)."""
    a = metric_values(results.get(row, {}), task, level, key)
    b = metric_values(results.get(reference, {}), task, level, key)
    return [a[k] - b[k] for k in sorted(a.keys() & b.keys())]


def table1(results: Results, task: str, *, baseline: str) -> str:
    """Markdown rows ``mean ± sd (difference of means to baseline)`` for every row predicting ``task``.

    ``runs`` counts the runs aggregated (a single run is shown without sd); the difference is shown
    for rows other than ``baseline`` when the baseline has a value. A metric undefined in every
    run reads ``n/a``.
    """
    header = "| model | runs | " + " | ".join(c[2] for c in TABLE_COLUMNS) + " |"
    lines = [header, "|---|---|" + "---|" * len(TABLE_COLUMNS)]
    base_runs = results.get(baseline, {})
    for name, runs in results.items():
        predicting = {k: m for k, m in runs.items() if task in m.get("tasks", {})}
        if not predicting:
            continue
        cells = []
        for level, key, _ in TABLE_COLUMNS:
            values = list(metric_values(predicting, task, level, key).values())
            if not values:
                cells.append("n/a")
                continue
            base_values = list(metric_values(base_runs, task, level, key).values())
            delta = mean_sd(values)[0] - mean_sd(base_values)[0] if base_values and name != baseline else None
            cells.append(format_mean_sd(values, signed=False) + ("" if delta is None else f" ({delta:+.3f})"))
        lines.append(f"| {name} | {len(predicting)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def paired_table(results: Results, task: str, pairs: list[tuple[str, str]]) -> str:
    """Markdown: per (row, reference) pair, the mean ± sd of per-run differences and how many were > 0.

    ``k/n up`` counts runs where the row beat its reference on that metric (same split and seed).
    Pairs without a shared run are left out.
    """
    lines = [
        "| row − reference | runs | " + " | ".join(c[2] for c in TABLE_COLUMNS) + " |",
        "|---|---|" + "---|" * len(TABLE_COLUMNS),
    ]
    for row, ref in pairs:
        cells, n_runs = [], 0
        for level, key, _ in TABLE_COLUMNS:
            deltas = paired_delta(results, task, level, key, row=row, reference=ref)
            if not deltas:
                cells.append("n/a")
                continue
            n_runs = max(n_runs, len(deltas))
            up = sum(d > 0 for d in deltas)
            cells.append(f"{format_mean_sd(deltas, signed=True)} ({up}/{len(deltas)} up)")
        if n_runs:
            lines.append(f"| {row} − {ref} | {n_runs} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_table1(results: Results, task: str, out: Path, *, title: str) -> None:
    """Bar chart: song top-1 and segment AUC-ROC per row, mean with ± sd error bars (PNG)."""
    import matplotlib  # lazy: heavy import, for the chart only

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [
        (level, key, label)
        for level, key, label in TABLE_COLUMNS
        if (level, key) in {("segment", "auc_roc"), ("song", "top1"), ("song", "macro_f1")}
    ]
    names = [n for n, runs in results.items() if any(task in m.get("tasks", {}) for m in runs.values())]
    if not names:
        return
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(names), 3.6))
    width = 0.8 / len(shown)
    for i, (level, key, label) in enumerate(shown):
        stats = [
            mean_sd(list(metric_values(results[n], task, level, key).values()) or [float("nan")])
            for n in names
        ]
        x = np.arange(len(names)) + (i - (len(shown) - 1) / 2) * width
        ax.bar(x, [s[0] for s in stats], width, yerr=[s[1] for s in stats], capsize=3, label=label)
    ax.set_xticks(np.arange(len(names)), names, rotation=25, ha="right", fontsize=7)
    ax.set(ylim=(0, 1.05), title=title)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)
