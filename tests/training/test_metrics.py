from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.preprocessing import label_binarize

from training.metrics import classification_metrics, song_level


def test_matches_scikit_learn_when_every_class_is_present() -> None:
    rng = np.random.default_rng(0)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    probs = rng.dirichlet(np.ones(3), size=len(y))
    m = classification_metrics(y, probs, ["a", "b", "c"])
    assert m["auc_roc"] == pytest.approx(roc_auc_score(y, probs, multi_class="ovr", average="macro"))
    assert m["auc_pr"] == pytest.approx(
        average_precision_score(label_binarize(y, classes=[0, 1, 2]), probs, average="macro")
    )
    assert m["macro_f1"] == pytest.approx(f1_score(y, probs.argmax(1), average="macro"))
    assert m["top1"] == pytest.approx(np.mean(probs.argmax(1) == y))
    assert m["absent_classes"] == []


def test_absent_classes_are_reported_not_averaged() -> None:
    y = np.array([0, 0, 1, 1])
    probs = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])
    m = classification_metrics(y, probs, ["a", "b", "c"])
    assert m["absent_classes"] == ["c"]
    assert m["auc_roc"] == 1.0 and m["n_present"] == 2


def test_single_class_split_has_no_auc() -> None:
    m = classification_metrics(np.zeros(3, int), np.full((3, 2), 0.5), ["a", "b"])
    assert m["auc_roc"] is None and m["auc_pr"] is None


def test_song_level_is_the_mean_of_segment_probabilities() -> None:
    probs = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
    np.testing.assert_allclose(song_level(np.array([0, 0, 1]), probs), [[0.7, 0.3], [0.2, 0.8]])
