"""The trivial baseline: logistic regression on summary statistics of each 3 s segment.

Features of one segment (``SEGMENT_FRAMES`` frames x ``N_MELS`` bands of the cached log-mel):
the mean and the standard deviation over time of every log-mel band and of ``N_MFCC`` MFCCs,
``2 * (N_MELS + N_MFCC)`` = 232 numbers. The MFCCs are the type-II orthonormal DCT of the cached
log-mel along the band axis, first ``N_MFCC`` coefficients: exactly what
``librosa.feature.mfcc(S=log_mel.T, n_mfcc=20)`` returns for that input (the cache holds
``log10(1 + 10000 * mel power)``, not decibels, so these are MFCCs of that log compression).

One scikit-learn ``LogisticRegression`` per task on standardised features; it is evaluated with
:func:`training.evaluate.evaluate_predictor`, the code that evaluates the CNN, so the metrics of
both are comparable.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.fft import dct
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from frontend.audio import N_MELS, SEGMENT_FRAMES
from training.dataset import LabelSpace, SongMels, evenly_spaced, label_space
from training.evaluate import Predictor, evaluate_predictor, write_report
from training.run_folder import RunFolder, songs_by_split

N_MFCC = 20
N_FEATURES = 2 * (N_MELS + N_MFCC)


@dataclass(frozen=True)
class BaselineConfig:
    """What the baseline is fitted with; saved beside its metrics."""

    tasks: tuple[str, ...] = ("artist", "language")
    segments_per_song: int | None = 40  # evenly spaced training segments per song; None = all
    c: float = 1.0  # inverse L2 regularisation strength of the logistic regression
    max_iter: int = 2000

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ValueError("tasks must name at least one label column, got ()")
        if self.segments_per_song is not None and self.segments_per_song < 1:
            raise ValueError(f"segments_per_song must be >= 1 or None, got {self.segments_per_song}")
        if not self.c > 0:
            raise ValueError(f"c must be > 0, got {self.c}")


def mfcc_from_log_mel(segments: np.ndarray, *, n_mfcc: int = N_MFCC) -> np.ndarray:
    """MFCCs of log-mel segments: orthonormal DCT-II over the band axis, first ``n_mfcc``.

    Args:
        segments: ``(n, frames, N_MELS)`` log-mel.
        n_mfcc: coefficients kept, 1..N_MELS.

    Returns:
        ``(n, frames, n_mfcc)`` float32.
    """
    if not 1 <= n_mfcc <= segments.shape[-1]:
        raise ValueError(f"n_mfcc must be in 1..{segments.shape[-1]}, got {n_mfcc}")
    return dct(segments, type=2, norm="ortho", axis=-1)[..., :n_mfcc].astype(np.float32)


def segment_features(x: np.ndarray) -> np.ndarray:
    """Per-segment summary features.

    Args:
        x: ``(n, SEGMENT_FRAMES, N_MELS)`` or ``(n, SEGMENT_FRAMES, N_MELS, 1)`` log-mel segments.

    Returns:
        ``(n, N_FEATURES)`` float32: mean of the bands, std of the bands, mean of the MFCCs,
        std of the MFCCs (each over the frames of the segment).
    """
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[2] != N_MELS:
        raise ValueError(f"segments must have shape (n, frames, {N_MELS}[, 1]), got {x.shape}")
    mfcc = mfcc_from_log_mel(x)
    parts = (x.mean(axis=1), x.std(axis=1), mfcc.mean(axis=1), mfcc.std(axis=1))
    return np.concatenate(parts, axis=1).astype(np.float32)


def _features_of(mels: SongMels, *, per_song: int | None, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Features ``(n, N_FEATURES)`` of evenly spaced segments and each one's song index ``(n,)``."""
    s, t = evenly_spaced(mels, hop_frames=SEGMENT_FRAMES, per_song=per_song)
    feats = [
        segment_features(mels.gather(s[i : i + batch], t[i : i + batch])) for i in range(0, len(s), batch)
    ]
    return np.concatenate(feats), s


@dataclass
class LogRegBaseline:
    """Fitted per-task pipelines (scaler + logistic regression) and the full label space."""

    space: LabelSpace
    models: dict[str, Pipeline]

    @classmethod
    def fit(cls, train: SongMels, space: LabelSpace, config: BaselineConfig, *, seed: int) -> LogRegBaseline:
        """Fit one model per task of ``space`` on ``train``'s segments."""
        x, song_idx = _features_of(train, per_song=config.segments_per_song)
        models = {}
        for task in space:
            y = train.labels[task][song_idx]
            if len(np.unique(y)) < 2:
                raise ValueError(f"task {task!r}: the training songs hold one class only, {np.unique(y)}")
            model = make_pipeline(
                StandardScaler(),
                LogisticRegression(C=config.c, max_iter=config.max_iter, random_state=seed),
            )
            models[task] = model.fit(x, y)
        return cls(space, models)

    def predict(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """``(n, SEGMENT_FRAMES, N_MELS, 1)`` segments -> ``{task: (n, n_classes)}`` probabilities.

        Classes never seen in training get probability 0.
        """
        feats = segment_features(x)
        out = {}
        for task, names in self.space.items():
            model = self.models[task]
            probs = np.zeros((len(feats), len(names)), dtype=np.float64)
            probs[:, model.classes_] = model.predict_proba(feats)
            out[task] = probs
        return out

    @property
    def predictor(self) -> Predictor:
        return self.predict


def run_baseline(
    cache_dir: Path, split_file: Path, run_dir: Path, config: BaselineConfig, *, seed: int
) -> dict[str, Any]:
    """Fit the baseline on the train songs of ``split_file`` and evaluate it on the test songs.

    Writes the run folder's ``eval/`` as :func:`training.evaluate.evaluate_run` does for a CNN, plus
    its ``config.json`` (the baseline's configuration). Kept when the run folder is finished
    (``eval/metrics.json`` exists; resumable).

    Returns:
        ``{"split", "n_songs", "tasks": {task: {level: metrics}}, "train": {"wall_s", "cpu_s", ...}}``.
    """
    run = RunFolder(run_dir)
    if run.is_finished:
        return run.read_metrics()
    start, cpu_start = time.monotonic(), time.process_time()
    splits = songs_by_split(cache_dir, split_file)
    if not splits["train"] or not splits["test"]:
        counts = {k: len(v) for k, v in splits.items()}
        raise ValueError(f"{split_file}: the baseline needs train and test songs, got {counts}")
    space = label_space(splits["train"] + splits["val"] + splits["test"], config.tasks)
    train = SongMels.load(cache_dir, splits["train"], space)
    model = LogRegBaseline.fit(train, space, config, seed=seed)
    test = SongMels.load(cache_dir, splits["test"], space)
    task_metrics, probs = evaluate_predictor(model.predictor, test, space)
    run_dir.mkdir(parents=True, exist_ok=True)
    run.config.write_text(
        json.dumps({**asdict(config), "seed": seed, "model": "logistic-regression"}, indent=2),
        encoding="utf-8",
    )
    write_report(run.eval_dir, task_metrics, probs, test, space)
    metrics = {
        "split": "test",
        "n_songs": len(splits["test"]),
        "tasks": task_metrics,
        "train": {
            "wall_s": time.monotonic() - start,
            "cpu_s": time.process_time() - cpu_start,
            "n_train_songs": len(splits["train"]),
        },
    }
    run.write_metrics(metrics)
    return metrics
