"""Evaluate a run on its test songs: segment level (as the paper) and song level.

Writes the run folder's ``eval/`` (:mod:`training.run_folder`): ``metrics.md`` and PNG plots
(ROC and PR curves, confusion matrices, training curves), then ``metrics.json``, which marks the
run finished, so an evaluation interrupted while plotting leaves the run unfinished.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from frontend.audio import SEGMENT_FRAMES
from training.dataset import LabelSpace, SongMels, evenly_spaced
from training.metrics import METRIC_NAMES, classification_metrics, song_level
from training.plots import plot_confusion, plot_curves, plot_history
from training.run_folder import (
    METRICS_TABLE_FILE,
    TRAINING_CURVES_FILE,
    RunFolder,
    confusion_file,
    curves_file,
)

Predictor = Callable[[np.ndarray], dict[str, np.ndarray]]  # (n,187,96,1) -> {task: (n, C)}
LEVELS = ("segment", "song")


def evaluate_predictor(
    predict: Predictor, mels: SongMels, space: LabelSpace, *, batch_size: int = 256
) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Metrics of ``predict`` on every non-overlapping segment of ``mels``' songs; each task on the
    songs labelled for it.

    Returns:
        ``(metrics, probs)`` where ``metrics[task][level]`` is a
        :func:`classification_metrics` dict and ``probs[task][level]`` the probabilities.
    """
    s, t = evenly_spaced(mels, hop_frames=SEGMENT_FRAMES, per_song=None)
    chunks = [
        predict(mels.gather(s[i : i + batch_size], t[i : i + batch_size]))
        for i in range(0, len(s), batch_size)
    ]
    metrics: dict[str, Any] = {}
    probs: dict[str, dict[str, np.ndarray]] = {}
    for task, names in space.items():
        seg = np.concatenate([c[task] for c in chunks])
        song = song_level(s, seg)
        y_song = mels.labels[task]
        labelled = y_song >= 0
        probs[task] = {"segment": seg, "song": song}
        metrics[task] = {
            "segment": classification_metrics(y_song[s][labelled[s]], seg[labelled[s]], names),
            "song": classification_metrics(y_song[labelled], song[labelled], names),
        }
    return metrics, probs


def markdown_table(metrics: dict[str, Any]) -> str:
    """One row per task and level, one column per metric."""
    lines = [
        "| task | level | " + " | ".join(METRIC_NAMES) + " | n |",
        "|---|---|" + "---|" * (len(METRIC_NAMES) + 1),
    ]
    for task, levels in metrics.items():
        for level in LEVELS:
            m = levels[level]
            cells = ["n/a" if m[k] is None else f"{m[k]:.3f}" for k in METRIC_NAMES]
            lines.append(f"| {task} | {level} | " + " | ".join(cells) + f" | {m['n']} |")
    return "\n".join(lines) + "\n"


def write_report(
    out_dir: Path,
    metrics: dict[str, Any],
    probs: dict[str, dict[str, np.ndarray]],
    mels: SongMels,
    space: LabelSpace,
    *,
    history_csv: Path | None = None,
) -> None:
    """The table and plots of an evaluation in ``out_dir`` (a run folder's ``eval/``).

    Not ``metrics.json``: it marks a finished run, so the caller writes it last
    (:meth:`training.run_folder.RunFolder.write_metrics`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / METRICS_TABLE_FILE).write_text(markdown_table(metrics), encoding="utf-8")
    s, _ = evenly_spaced(mels, hop_frames=SEGMENT_FRAMES, per_song=None)
    for task, names in space.items():
        y_song = mels.labels[task]
        labelled = y_song >= 0
        plot_curves(
            y_song[s][labelled[s]],
            probs[task]["segment"][labelled[s]],
            names,
            out_dir / curves_file(task),
            title=f"{task}, segments",
        )
        plot_confusion(
            y_song[labelled],
            probs[task]["song"][labelled].argmax(1),
            names,
            out_dir / confusion_file(task),
            title=f"{task}, songs",
        )
    if history_csv is not None and history_csv.is_file():
        plot_history(history_csv, out_dir / TRAINING_CURVES_FILE)


def evaluate_run(
    run_dir: Path, cache_dir: Path, *, split: str = "test", write: bool = True
) -> dict[str, Any]:
    """Evaluate the Keras model of ``run_dir`` on the songs of ``split``."""
    # lazy: heavy import (TensorFlow), which the baseline's evaluation through this module never needs
    from training.model import load_model

    run = RunFolder(run_dir)
    space = run.read_labels()
    songs = run.songs_by_split(cache_dir)[split]
    if not songs:
        raise ValueError(f"{run.split}: no {split} songs")
    mels = SongMels.load(cache_dir, songs, space)
    model = load_model(run.model)

    def predict(x: np.ndarray) -> dict[str, np.ndarray]:
        out = model.predict_on_batch(x)
        return {t: np.asarray(out[t]) for t in space}

    metrics, probs = evaluate_predictor(predict, mels, space)
    metrics = {"split": split, "n_songs": len(songs), "tasks": metrics}
    if write:
        write_report(run.eval_dir, metrics["tasks"], probs, mels, space, history_csv=run.history)
        run.write_metrics(metrics)
    return metrics
