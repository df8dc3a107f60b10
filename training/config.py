"""Training configuration: one dataclass, saved beside every run's weights."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from frontend.audio import SEGMENT_FRAMES


@dataclass
class TrainConfig:
    # The trunk, by name in training.backbones.BACKBONES: the paper's 5-block CNN by default.
    backbone: str = "paper"
    # Output heads, primary first, as many as there are label columns to learn. ("artist",) alone
    # is the single-task baseline (same trunk).
    tasks: tuple[str, ...] = ("artist", "language")
    # Weight of every later task's loss, L = L_first + alpha * sum L_task. None = the paper's
    # N_first / N_task, which balances the heads' cross-entropy scales (log N grows with N).
    alpha: float | None = None
    # Per-task loss weights that override the rule above, e.g. {"language": 0.5}: for a third
    # head whose scale the ratio does not suit. Empty = the paper's rule for every head.
    task_weights: dict[str, float] = field(default_factory=dict)
    # Paper: Adam with learning rate 1e-3 and mini-batches of 32.
    learning_rate: float = 1e-3
    batch_size: int = 32
    # An upper bound; early stopping on validation loss (best weights restored) decides.
    epochs: int = 40
    patience: int = 6
    # Fixes the split, weight init, sampling and dropout masks.
    seed: int = 0
    # Paper-style sampling: at most this many 3 s segments per song in each training epoch
    # (the paper took two 1-minute excerpts = 40 segments), redrawn every epoch. None = all.
    segments_per_song: int | None = 40
    # Hop between training segment starts, in mel frames; SEGMENT_FRAMES = no overlap.
    hop_frames: int = SEGMENT_FRAMES
    # At most this many validation segments per song (evenly spaced), to keep validation cheap.
    val_segments_per_song: int | None = 20
    # BatchNorm statistics measured at inference on training segments replace the running ones
    # (training/calibrate.py: dropout inflates the running variances). 0 = off, as in the paper.
    # Before every validation, so the kept epoch is chosen with them: 64 to 256 segments gave
    # the same voices validation accuracy (0.85, against 0.23 without), 256 take ~5 s on 2 cores.
    bn_epoch_calibration_segments: int = 256
    # Once more for the kept weights, on more segments: on gamemusic's varied soundtracks 256
    # left the statistics noisy (song top-1 up on 3 of 6 saved models, down on 2), 1024 raised
    # it on all 6. 1024 took 28-38 s on 2 busy cores, once per run.
    bn_calibration_segments: int = 1024
    # Outlier exposure: songs of the split's ``exposure`` part (music by people outside the label
    # set) train the first head towards the uniform distribution with this weight, their other
    # labels as usual (training/losses.py). 0 = off, the paper's recipe; Hendrycks et al. use 0.5.
    outlier_exposure: float = 0.0
    # The head outlier exposure trains: empty = the first task (music by other artists); the
    # language study exposes "language" to singing in languages outside its label set.
    exposure_task: str = ""
    # Labels of that head the outliers' uniform target leaves out: the language study leaves out
    # zxx, since singing in a language outside the label set still has vocals.
    exposure_excludes: tuple[str, ...] = ()
    # At most this many segments of each exposure song per epoch: outliers are a minority of a
    # batch (Hendrycks et al. draw one outlier per known example or fewer), and a cheaper epoch.
    exposure_segments_per_song: int = 4
    # Stratify the song split by this label.
    stratify: str = "artist"
    # Extra metadata (dataset name, protocol) carried into the artifact.
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tasks = tuple(self.tasks)
        self.exposure_excludes = tuple(self.exposure_excludes)
        if not self.tasks or len(set(self.tasks)) != len(self.tasks):
            raise ValueError(f"tasks must name one or more distinct label columns, got {self.tasks}")
        if self.alpha is not None and self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        self.task_weights = {str(k): float(v) for k, v in self.task_weights.items()}
        unknown = sorted(set(self.task_weights) - set(self.tasks))
        if unknown or any(w < 0 for w in self.task_weights.values()):
            raise ValueError(
                f"task_weights must give tasks of {self.tasks} weights >= 0, got {self.task_weights}"
            )
        for name in ("bn_epoch_calibration_segments", "bn_calibration_segments"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.outlier_exposure < 0:
            raise ValueError(f"outlier_exposure must be >= 0, got {self.outlier_exposure}")
        if self.exposure_task and self.exposure_task not in self.tasks:
            raise ValueError(f"exposure_task {self.exposure_task!r} is not one of the tasks {self.tasks}")
        if self.batch_size < 1 or self.epochs < 1:
            raise ValueError(f"batch_size and epochs must be >= 1, got {self.batch_size}, {self.epochs}")

    @property
    def exposed_task(self) -> str:
        """The head that outlier exposure trains towards uniform."""
        return self.exposure_task or self.tasks[0]

    def loss_weights(self, n_classes: dict[str, int]) -> dict[str, float]:
        """Per-head loss weight: 1 for the first task, alpha (or N_first / N_task) for each later one,
        unless ``task_weights`` names it."""
        first, *rest = self.tasks
        weights = {first: 1.0}
        for task in rest:
            weights[task] = self.alpha if self.alpha is not None else n_classes[first] / n_classes[task]
        return weights | self.task_weights

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["tasks"] = list(self.tasks)
        return d

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        for name in ("bn_epoch_calibration_segments", "bn_calibration_segments"):
            raw.setdefault(name, 0)  # written before training calibrated BatchNorm: it did not
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})
