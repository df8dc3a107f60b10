"""Classification metrics per task: macro AUC-ROC / AUC-PR (one-vs-rest), top-1, macro-F1.

Classes that have no example in the evaluated split have no defined AUC: they are left out
of the macro averages and listed under ``absent_classes`` instead of silently counted as 0 or 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score

METRIC_NAMES = ("auc_roc", "auc_pr", "top1", "macro_f1")


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    """Metrics of one task.

    Args:
        y_true: shape ``(n,)``, int class indices.
        probs: shape ``(n, n_classes)``, rows summing to 1.
        class_names: ``n_classes`` names, for the report of absent classes.

    Returns:
        ``auc_roc`` and ``auc_pr`` (macro over present classes, None where undefined),
        ``top1``, ``macro_f1`` (over present classes), ``n``, ``n_present``, ``absent_classes``.
    """
    if probs.ndim != 2 or probs.shape != (len(y_true), len(class_names)):
        raise ValueError(f"probs shape {probs.shape} != ({len(y_true)}, {len(class_names)})")
    present = np.unique(y_true)
    pred = probs.argmax(axis=1)
    auc_roc, auc_pr = [], []
    for c in present:
        positive = y_true == c
        if positive.all():  # one class only: no negatives, AUC undefined
            continue
        auc_roc.append(roc_auc_score(positive, probs[:, c]))
        auc_pr.append(average_precision_score(positive, probs[:, c]))
    return {
        "auc_roc": float(np.mean(auc_roc)) if auc_roc else None,
        "auc_pr": float(np.mean(auc_pr)) if auc_pr else None,
        "top1": float(accuracy_score(y_true, pred)),
        "macro_f1": float(f1_score(y_true, pred, labels=present, average="macro", zero_division=0)),
        "n": len(y_true),
        "n_present": len(present),
        "absent_classes": [n for i, n in enumerate(class_names) if i not in set(present.tolist())],
    }


def song_level(song_index: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Mean segment probabilities per song: ``(n_segments, C)`` -> ``(n_songs, C)``.

    ``song_index`` holds each segment's song, 0..n_songs-1.
    """
    n_songs = int(song_index.max()) + 1
    sums = np.zeros((n_songs, probs.shape[1]), dtype=np.float64)
    np.add.at(sums, song_index, probs)
    counts = np.bincount(song_index, minlength=n_songs)[:, None]
    return sums / np.maximum(counts, 1)
