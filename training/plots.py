"""PNG plots of an evaluation: ROC and PR curves, confusion matrices, training curves."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve


def plot_curves(y_true: np.ndarray, probs: np.ndarray, names: list[str], out: Path, *, title: str) -> None:
    """One-vs-rest ROC and PR curves of every class present in ``y_true``."""
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(11, 5))
    for c in np.unique(y_true):
        positive = y_true == c
        if positive.all():
            continue
        fpr, tpr, _ = roc_curve(positive, probs[:, c])
        precision, recall, _ = precision_recall_curve(positive, probs[:, c])
        ax_roc.plot(fpr, tpr, lw=1, alpha=0.7, label=names[c])
        ax_pr.plot(recall, precision, lw=1, alpha=0.7)
    ax_roc.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, {title}")
    ax_pr.set(xlabel="recall", ylabel="precision", title=f"PR, {title}", ylim=(0, 1.02))
    if len(names) <= 12:
        ax_roc.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_confusion(
    y_true: np.ndarray, y_pred: np.ndarray, names: list[str], out: Path, *, title: str
) -> None:
    """Confusion matrix over all classes (rows: truth, columns: prediction)."""
    cm = confusion_matrix(y_true, y_pred, labels=np.arange(len(names)))
    size = max(5.0, 0.32 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    for i, j in zip(*np.nonzero(cm), strict=True):
        ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6)
    ax.set(xlabel="predicted", ylabel="true", title=f"confusion, {title}")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_history(history_csv: Path, out: Path) -> None:
    """Training and validation loss (and accuracies) per epoch from Keras' CSVLogger file."""
    with history_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for key in rows[0]:
        values = [float(r[key]) for r in rows]
        if key.endswith("loss"):
            ax_loss.plot(epochs, values, label=key)
        elif key.endswith("accuracy"):
            ax_acc.plot(epochs, values, label=key)
    ax_loss.set(xlabel="epoch", title="loss")
    ax_acc.set(xlabel="epoch", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
