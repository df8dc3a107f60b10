"""The paper's Table 1: single-task baselines against multitask models, over several seeds.

Every (variant, seed) run lives in ``<out>/runs/<variant>/seed<k>/`` and is skipped when its
metrics exist, so an interrupted comparison starts again where it stopped.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from training.config import TrainConfig
from training.prepare import read_index
from training.split import split_songs, write_split

log = logging.getLogger(__name__)

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


def run_variant(cache_dir: Path, split_file: Path, run_dir: Path, config: TrainConfig) -> dict[str, Any]:
    """Train and evaluate one CNN run unless its metrics exist already."""
    from training.evaluate import evaluate_run
    from training.train import train

    done = run_dir / "eval" / "metrics.json"
    if done.is_file():
        log.info("kept finished run %s", run_dir)
        return dict(json.loads(done.read_text()))
    result = train(cache_dir, split_file, run_dir, config)
    metrics = evaluate_run(run_dir, cache_dir)
    metrics["train"] = {"epochs": result.epochs_run, "segments_per_s": result.segments_per_second}
    done.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return metrics


def compare(
    cache_dir: Path, out_dir: Path, base: TrainConfig, *, seeds: list[int], variants: list[Variant]
) -> dict[str, dict[int, dict[str, Any]]]:
    """Run every variant on every seed's split; returns ``{variant: {seed: metrics}}``."""
    results: dict[str, dict[int, dict[str, Any]]] = {}
    for seed in seeds:
        split_file = split_for_seed(cache_dir, out_dir, seed, base.stratify)
        for v in variants:
            config = replace(base, tasks=v.tasks, alpha=v.alpha, seed=seed)
            run_dir = out_dir / "runs" / v.name / f"seed{seed}"
            results.setdefault(v.name, {})[seed] = run_variant(cache_dir, split_file, run_dir, config)
    return results


def _mean_sd(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def table1(results: dict[str, dict[int, dict[str, Any]]], task: str, baseline: str) -> str:
    """Markdown rows ``mean ± sd (difference to baseline)`` for every variant that predicts ``task``."""
    header = "| model | " + " | ".join(c[2] for c in TABLE_COLUMNS) + " |"
    lines = [header, "|---|" + "---|" * len(TABLE_COLUMNS)]
    base_means = {}
    for name, by_seed in results.items():
        runs = [m["tasks"][task] for m in by_seed.values() if task in m["tasks"]]
        if not runs:
            continue
        cells = []
        for level, key, _ in TABLE_COLUMNS:
            values = [r[level][key] for r in runs if r[level][key] is not None]
            if not values:
                cells.append("n/a")
                continue
            mean, sd = _mean_sd(values)
            if name == baseline:
                base_means[(level, key)] = mean
            delta = (
                mean - base_means[(level, key)] if (level, key) in base_means and name != baseline else None
            )
            cells.append(f"{mean:.3f} ± {sd:.3f}" + (f" ({delta:+.3f})" if delta is not None else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
