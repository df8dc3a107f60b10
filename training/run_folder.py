"""The training run folder: its layout, and the readers and writers of what it holds.

One run (``songid train``, or the logistic-regression baseline) writes one folder::

    <run>/
      config.json       the training configuration (TrainConfig; the baseline's own config)
      labels.json       label ids per task in output order (frontend.labels' schema)
      split.json        the song split trained on (a copy of the input split)
      model.keras       the kept weights, written once training ends
      history.csv       one row per epoch (loss, accuracies, segments/s)
      tensorboard/      TensorBoard logs
      backup/           while training: the state an interrupted run resumes from
      eval/             written by evaluation:
        metrics.json    the metrics; its presence marks a finished run
        metrics.md      the same as a table
        curves_<task>_segment.png  confusion_<task>_song.png  training_curves.png

Nothing here imports TensorFlow: evaluation, comparison, reports and export read run folders
without it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frontend.labels import LABELS_FILE, from_ids, label_ids, read_labels, write_labels
from training.catalog import Song
from training.config import TrainConfig
from training.dataset import LabelSpace
from training.prepare import read_index
from training.split import ROLES, read_split

__all__ = [
    "BACKUP_DIR",
    "CONFIG_FILE",
    "EVAL_DIR",
    "HISTORY_FILE",
    "LABELS_FILE",
    "METRICS_FILE",
    "METRICS_TABLE_FILE",
    "MODEL_FILE",
    "SPLIT_FILE",
    "TENSORBOARD_DIR",
    "TRAINING_CURVES_FILE",
    "RunFolder",
    "RunFolderError",
    "confusion_file",
    "curves_file",
    "songs_by_split",
    "write_json_atomic",
]

CONFIG_FILE = "config.json"
SPLIT_FILE = "split.json"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.csv"
TENSORBOARD_DIR = "tensorboard"
BACKUP_DIR = "backup"
EVAL_DIR = "eval"
# in EVAL_DIR
METRICS_FILE = "metrics.json"
METRICS_TABLE_FILE = "metrics.md"
TRAINING_CURVES_FILE = "training_curves.png"


def curves_file(task: str) -> str:
    """The segment-level ROC and PR curves of ``task``, in ``eval/``."""
    return f"curves_{task}_segment.png"


def confusion_file(task: str) -> str:
    """The song-level confusion matrix of ``task``, in ``eval/``."""
    return f"confusion_{task}_song.png"


class RunFolderError(ValueError):
    """A run folder's file is missing or unreadable; the message names the file."""


@dataclass(frozen=True)
class RunFolder:
    """One run folder at ``path`` (which need not exist yet)."""

    path: Path

    @property
    def config(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def labels(self) -> Path:
        return self.path / LABELS_FILE

    @property
    def split(self) -> Path:
        return self.path / SPLIT_FILE

    @property
    def model(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def history(self) -> Path:
        return self.path / HISTORY_FILE

    @property
    def tensorboard(self) -> Path:
        return self.path / TENSORBOARD_DIR

    @property
    def backup(self) -> Path:
        return self.path / BACKUP_DIR

    @property
    def eval_dir(self) -> Path:
        return self.path / EVAL_DIR

    @property
    def metrics(self) -> Path:
        """``eval/metrics.json``: written last, so it marks a finished run."""
        return self.eval_dir / METRICS_FILE

    @property
    def is_trained(self) -> bool:
        """Training has ended (``model.keras`` is written)."""
        return self.model.is_file()

    @property
    def is_finished(self) -> bool:
        """Training and evaluation have ended (``eval/metrics.json`` is written)."""
        return self.metrics.is_file()

    def read_config(self) -> TrainConfig:
        """The run's training configuration.

        Raises:
            RunFolderError: ``config.json`` is missing, not JSON, or not a training configuration.
        """
        try:
            return TrainConfig.load(self.config)
        except FileNotFoundError as e:
            raise RunFolderError(f"{self.config}: missing; not a trained run folder") from e
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RunFolderError(f"{self.config}: not readable JSON ({e})") from e
        except (TypeError, ValueError, AttributeError) as e:
            raise RunFolderError(f"{self.config}: not a training configuration ({e})") from e

    def write_config(self, config: TrainConfig) -> None:
        config.save(self.config)

    def read_labels(self) -> LabelSpace:
        """Label ids per task, in output order; an older run's ``{task: [ids]}`` form reads too.

        Raises:
            frontend.labels.LabelsError: ``labels.json`` is missing, unreadable or not the schema.
        """
        return label_ids(read_labels(self.labels))

    def write_labels(self, space: LabelSpace) -> None:
        """Write ``labels.json`` in the shared schema, each label's name its id."""
        write_labels(self.labels, from_ids(space))

    def read_metrics(self) -> dict[str, Any]:
        """The finished run's ``eval/metrics.json``.

        Raises:
            RunFolderError: missing (the run has not finished) or not a JSON object.
        """
        try:
            metrics = json.loads(self.metrics.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise RunFolderError(f"{self.metrics}: missing; the run has not finished") from e
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RunFolderError(f"{self.metrics}: not readable JSON ({e})") from e
        if not isinstance(metrics, dict):
            raise RunFolderError(f"{self.metrics}: expected a JSON object, got {type(metrics).__name__}")
        return metrics

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Write ``eval/metrics.json`` atomically: the run is then finished, never half-written."""
        self.eval_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.metrics, metrics)

    def songs_by_split(self, cache_dir: Path) -> dict[str, list[Song]]:
        """The songs of ``cache_dir`` per split of the run's ``split.json``."""
        return songs_by_split(cache_dir, self.split)


def songs_by_split(cache_dir: Path, split_file: Path) -> dict[str, list[Song]]:
    """The songs of the mel cache ``cache_dir`` per split (``train``, ``val``, ``test``, ``exposure``)
    of ``split_file``.

    Raises:
        ValueError: ``split_file`` is not a split file.
        FileNotFoundError: ``cache_dir`` holds no prepared cache.
    """
    assignment = read_split(split_file)
    songs = read_index(cache_dir)
    return {k: [s for s in songs if assignment.get(s.song_id) == k] for k in ROLES}


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write ``path`` so that it is never seen half-written (it may mark a finished run)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    tmp.replace(path)
