"""Open-set scores on an exported model, side by side: how well each one tells a known artist's song
from a song by someone the model never saw.

Every score is computed per song from what the exported network gives per segment (the task
heads' probabilities and the trunk's ``embedding``, exposed for a model exported before it had
one); higher means "more like a known class". The statistics a score needs (class means, the
within-class covariance, an LDA projection) come from the training songs; the operating threshold
from validation songs (never trained on); the figures from test songs (known) against outsiders
(unknown: real music by people the model never saw). Scores:

- ``max_probability``: the song-level probability of the top class.
- ``mahalanobis``: minus the smallest Mahalanobis distance to a class mean, with one shared
  within-class covariance of segment embeddings (Ledoit-Wolf shrinkage).
- ``lda_cosine``: the largest cosine between the song and a class mean after an LDA projection
  fitted on training segments.
- ``nearest_song``: the largest cosine (centred on the training mean) to any training song.
- ``centroid_cosine``: the largest cosine (centred on the training mean) to a class's mean song
  embedding: the service's gallery scale (frontend/centroids.py), where enrolled artists join.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from sklearn.covariance import LedoitWolf
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import roc_auc_score

from frontend.artifact import Artifact
from frontend.audio import load_audio, log_mel, segment
from frontend.signature import EMBEDDING, INPUT_NAME
from training.onnx_graph import expose_head_input

BATCH = 64
VAL_FALSE_REJECTS = 0.10  # the operating threshold rejects this share of the validation songs


def val_threshold(scores: Sequence[float] | np.ndarray) -> float:
    """The operating threshold: the score under which VAL_FALSE_REJECTS of the validation songs fall.

    Args:
        scores: one score per validation song (higher = more like a known label).
    """
    return float(np.quantile(scores, VAL_FALSE_REJECTS))


@dataclass(frozen=True)
class SongOutputs:
    """One song through the network: per task the song-level probabilities, and the embeddings."""

    probs: dict[str, np.ndarray]  # task -> (n_labels,), the mean over segments
    segments: np.ndarray  # (n_segments, dim) embeddings
    embedding: np.ndarray  # (dim,), the mean over segments


class Network:
    """An exported network with its ``embedding`` output (added to the graph when it lacks one)."""

    def __init__(self, artifact: Artifact) -> None:
        proto = onnx.load(artifact.onnx_path)
        if EMBEDDING not in artifact.signature.tensors:
            expose_head_input(proto, artifact.tasks, EMBEDDING)
        self.tasks = artifact.tasks
        self._session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])

    def song(self, mel: np.ndarray) -> SongOutputs:
        """``mel``: the whole song's log-mel, ``(n_frames, 96)``."""
        segments = segment(mel)[..., np.newaxis]
        names = [*self.tasks, EMBEDDING]
        parts = [
            self._session.run(names, {INPUT_NAME: segments[i : i + BATCH]})
            for i in range(0, len(segments), BATCH)
        ]
        outputs = {name: np.concatenate([p[k] for p in parts]) for k, name in enumerate(names)}
        embeddings = outputs[EMBEDDING].astype(np.float64)
        return SongOutputs(
            probs={t: outputs[t].mean(axis=0, dtype=np.float64) for t in self.tasks},
            segments=embeddings,
            embedding=embeddings.mean(axis=0),
        )

    def song_from_file(self, path: Path) -> SongOutputs:
        return self.song(log_mel(load_audio(path)))


def keep_outputs(store: dict[str, np.ndarray], key: str, song: SongOutputs) -> None:
    """Put ``song`` into ``store`` (an ``.npz``'s arrays) under ``key``."""
    store[f"{key}/segments"] = song.segments.astype(np.float32)
    for task, probs in song.probs.items():
        store[f"{key}/{task}"] = probs


def restore_outputs(store: dict[str, np.ndarray], key: str, tasks: list[str]) -> SongOutputs:
    """The :class:`SongOutputs` kept under ``key`` by :func:`keep_outputs`."""
    segments = store[f"{key}/segments"].astype(np.float64)
    return SongOutputs({t: store[f"{key}/{t}"] for t in tasks}, segments, segments.mean(axis=0))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


Score = Callable[[SongOutputs], float]


def fit_scores(train: list[SongOutputs], labels: np.ndarray, task: str) -> dict[str, Score]:
    """Every score of the module docstring, its statistics fitted on ``train`` (labels: class index)."""
    classes = np.unique(labels)
    songs = np.stack([s.embedding for s in train])
    means = np.stack([songs[labels == c].mean(axis=0) for c in classes])
    segment_rows = np.concatenate([s.segments for s in train])
    segment_labels = np.concatenate([np.full(len(s.segments), y) for s, y in zip(train, labels, strict=True)])
    residuals = segment_rows - means[np.searchsorted(classes, segment_labels)]
    precision = LedoitWolf(assume_centered=True).fit(residuals).precision_
    lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(segment_rows, segment_labels)
    projected_means = _unit(lda.transform(means))
    centre = songs.mean(axis=0)
    train_units = _unit(songs - centre)

    def mahalanobis(s: SongOutputs) -> float:
        d = means - s.embedding
        return -float(np.min(np.einsum("cd,de,ce->c", d, precision, d)))

    centroid_units = _unit(means - centre)

    return {
        "max_probability": lambda s: float(s.probs[task].max()),
        "centroid_cosine": lambda s: float(np.max(centroid_units @ _unit(s.embedding - centre))),
        "mahalanobis": mahalanobis,
        "lda_cosine": lambda s: float(np.max(projected_means @ _unit(lda.transform(s.embedding[None])[0]))),
        "nearest_song": lambda s: float(np.max(train_units @ _unit(s.embedding - centre))),
    }


@dataclass(frozen=True)
class OpenSetFigures:
    """One score's figures; rates are shares of songs."""

    score: str
    auroc: float  # known test songs against unknown songs
    threshold: float  # rejects VAL_FALSE_REJECTS of the validation songs
    false_rejects: float  # known test songs under the threshold
    false_accepts: float  # unknown songs at or over it
    accepted_top1: float  # closed-set top-1 among the accepted known test songs (nan when none)
    n_known: int
    n_unknown: int


def measure(
    score: Score,
    name: str,
    *,
    val: list[SongOutputs],
    test: list[SongOutputs],
    test_labels: np.ndarray,
    unknown: list[SongOutputs],
    task: str,
) -> OpenSetFigures:
    """AUROC, and the rates at the threshold set on the validation songs."""
    known = np.array([score(s) for s in test])
    outside = np.array([score(s) for s in unknown])
    threshold = val_threshold([score(s) for s in val])
    accepted = known >= threshold
    top1 = np.array([int(np.argmax(s.probs[task])) for s in test]) == test_labels
    auroc = roc_auc_score(np.r_[np.ones(len(known)), np.zeros(len(outside))], np.r_[known, outside])
    return OpenSetFigures(
        score=name,
        auroc=float(auroc),
        threshold=threshold,
        false_rejects=float(1 - accepted.mean()),
        false_accepts=float((outside >= threshold).mean()),
        accepted_top1=float(top1[accepted].mean()) if accepted.any() else float("nan"),
        n_known=len(known),
        n_unknown=len(outside),
    )


def measure_every_score(
    groups: Mapping[str, list[SongOutputs]], labels: Mapping[str, np.ndarray], task: str
) -> tuple[dict[str, Score], dict[str, OpenSetFigures]]:
    """Every score of :func:`fit_scores` fitted on ``groups["train"]`` and measured (:func:`measure`)
    on its ``val``, ``test`` and ``unknown`` songs; ``labels``: class indices of train and test."""
    scores = fit_scores(groups["train"], labels["train"], task)
    figures = {
        name: measure(
            score,
            name,
            val=groups["val"],
            test=groups["test"],
            test_labels=labels["test"],
            unknown=groups["unknown"],
            task=task,
        )
        for name, score in scores.items()
    }
    return scores, figures


TARGET_AUROC = 0.90
TARGET_FALSE_REJECTS = 0.10
TARGET_FALSE_ACCEPTS = 0.20


def verdict(best: OpenSetFigures) -> str:
    """The best score against the targets, with the gaps measured."""
    gaps = []
    if best.auroc < TARGET_AUROC:
        gaps.append(f"AUROC {best.auroc:.3f} < {TARGET_AUROC:.2f}")
    if best.false_rejects > TARGET_FALSE_REJECTS:
        gaps.append(f"false rejects {best.false_rejects:.1%} > {TARGET_FALSE_REJECTS:.0%}")
    if best.false_accepts > TARGET_FALSE_ACCEPTS:
        gaps.append(f"false accepts {best.false_accepts:.1%} > {TARGET_FALSE_ACCEPTS:.0%}")
    head = (
        f"Targets (AUROC >= {TARGET_AUROC:.2f}; at most {TARGET_FALSE_REJECTS:.0%} false rejects with "
        f"at most {TARGET_FALSE_ACCEPTS:.0%} false accepts), best score `{best.score}`"
    )
    return f"{head}: {'met' if not gaps else 'missed: ' + '; '.join(gaps)}."
