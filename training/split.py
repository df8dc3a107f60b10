"""Song-level train/val/test split, stratified by artist, groups kept whole, seeded.

The split is written to a JSON file that training and evaluation both read, so the
test songs of an evaluation are exactly those the model never saw.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from training.catalog import Song

SPLITS = ("train", "val", "test")
# Songs by people outside the label set, trained on only as outliers (TrainConfig.outlier_exposure)
EXPOSURE = "exposure"
ROLES = (*SPLITS, EXPOSURE)


def _first_fold(labels: list[str], groups: list[str], n_splits: int, seed: int) -> np.ndarray:
    """Indices of the first fold of a shuffled StratifiedGroupKFold."""
    # scikit-learn needs at least one class with n_splits members; tiny catalogs get bigger folds
    largest_class = max(Counter(labels).values())
    n_splits = max(2, min(n_splits, len(set(groups)), largest_class))
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # classes smaller than n_splits: stratified as far as counts allow
        warnings.simplefilter("ignore", UserWarning)
        _, fold = next(cv.split(np.zeros(len(labels)), labels, groups))
    return fold


def split_songs(
    songs: list[Song], *, seed: int, stratify: str = "artist", test: float = 0.1, val: float = 0.1
) -> dict[str, str]:
    """Assign every song to ``train``, ``val`` or ``test`` (about 80/10/10 by default).

    Songs sharing a ``group`` always land together; artists are spread over the splits as far
    as their song counts allow.

    Returns:
        ``{song_id: split}``.
    """
    if not (0 < test < 1 and 0 < val < 1 and test + val < 1):
        raise ValueError(f"test and val must be fractions with test + val < 1, got {test}, {val}")
    if len(songs) < 3:
        raise ValueError(f"need at least 3 songs to split, got {len(songs)}")
    labels = [s.labels[stratify] for s in songs]
    groups = [s.group for s in songs]
    test_idx = set(_first_fold(labels, groups, round(1 / test), seed).tolist())
    rest = [i for i in range(len(songs)) if i not in test_idx]
    val_fold = _first_fold(
        [labels[i] for i in rest], [groups[i] for i in rest], round((1 - test) / val), seed + 1
    )
    val_idx = {rest[i] for i in val_fold.tolist()}
    return {
        s.song_id: "test" if i in test_idx else "val" if i in val_idx else "train"
        for i, s in enumerate(songs)
    }


def split_train_val(
    songs: list[Song], *, seed: int, stratify: str = "artist", val: float = 0.1
) -> dict[str, str]:
    """Assign every song to ``train`` or ``val`` (no test: the caller holds its test songs apart).

    Groups stay whole and ``stratify`` classes are spread as in :func:`split_songs`.

    Returns:
        ``{song_id: "train" | "val"}``.
    """
    if not 0 < val < 1:
        raise ValueError(f"val must be a fraction in (0, 1), got {val}")
    if len(songs) < 2:
        raise ValueError(f"need at least 2 songs to split into train and val, got {len(songs)}")
    val_fold = set(
        _first_fold(
            [s.labels[stratify] for s in songs], [s.group for s in songs], round(1 / val), seed
        ).tolist()
    )
    return {s.song_id: "val" if i in val_fold else "train" for i, s in enumerate(songs)}


def write_split(path: Path, assignment: dict[str, str], **meta: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    counts = Counter(assignment.values())
    shown = [k for k in ROLES if k in SPLITS or k in counts]
    payload = {**meta, "counts": {k: counts.get(k, 0) for k in shown}, "assignment": assignment}
    path.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")


def read_split(path: Path) -> dict[str, str]:
    try:
        assignment = json.loads(path.read_text(encoding="utf-8"))["assignment"]
    except (OSError, KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a split file ({e})") from e
    bad = {v for v in assignment.values() if v not in ROLES}
    if bad:
        raise ValueError(f"{path}: unknown split name(s) {sorted(bad)}")
    return dict(assignment)
