"""Train the paper's network on the mel cache, one run folder per run.

A run folder holds everything needed to evaluate and export it::

    <run>/config.json  labels.json  split.json  model.keras  history.csv  tensorboard/
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from frontend.audio import N_MELS, SEGMENT_FRAMES
from training.config import TrainConfig
from training.dataset import LabelSpace, SongMels, epoch_batches, evenly_spaced, label_space, steps_per_epoch
from training.model import build_model
from training.prepare import read_index
from training.split import read_split

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
SPLIT_FILE = "split.json"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.csv"


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    epochs_run: int
    best_val_loss: float
    segments_per_second: float


def songs_by_split(cache_dir: Path, split_file: Path) -> dict[str, list]:
    assignment = read_split(split_file)
    songs = read_index(cache_dir)
    return {k: [s for s in songs if assignment.get(s.song_id) == k] for k in ("train", "val", "test")}


def read_labels(run_dir: Path) -> LabelSpace:
    return {t: list(v) for t, v in json.loads((run_dir / LABELS_FILE).read_text()).items()}


class _Throughput(keras.callbacks.Callback):
    """Training segments per second, per epoch, excluding the first (graph tracing) epoch."""

    def __init__(self, segments_per_epoch: int) -> None:
        super().__init__()
        self.segments_per_epoch = segments_per_epoch
        self.rates: list[float] = []
        self._t0 = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        rate = self.segments_per_epoch / (time.perf_counter() - self._t0)
        self.rates.append(rate)
        if logs is not None:
            logs["segments_per_s"] = rate


def _dataset(songs: SongMels, config: TrainConfig) -> tf.data.Dataset:
    signature = (
        tf.TensorSpec((None, SEGMENT_FRAMES, N_MELS, 1), tf.float32),
        {t: tf.TensorSpec((None,), tf.int64) for t in config.tasks},
    )
    return tf.data.Dataset.from_generator(
        lambda: epoch_batches(
            songs,
            hop_frames=config.hop_frames,
            per_song=config.segments_per_song,
            batch_size=config.batch_size,
            seed=config.seed,
        ),
        output_signature=signature,
    ).prefetch(tf.data.AUTOTUNE)


def train(cache_dir: Path, split_file: Path, run_dir: Path, config: TrainConfig) -> TrainResult:
    """Train one model and write its run folder.

    Args:
        cache_dir: a prepared mel cache (``songid prepare``).
        split_file: the song-level split (``songid split``); copied into the run.
        run_dir: output folder, created.
        config: hyper-parameters; saved as ``config.json``.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    splits = songs_by_split(cache_dir, split_file)
    if not splits["train"] or not splits["val"]:
        raise ValueError(
            f"{split_file}: needs train and val songs, got { {k: len(v) for k, v in splits.items()} }"
        )
    space = label_space(splits["train"] + splits["val"] + splits["test"], config.tasks)
    n_classes = {t: len(names) for t, names in space.items()}
    keras.utils.set_random_seed(config.seed)

    train_mels = SongMels.load(cache_dir, splits["train"], space)
    val_mels = SongMels.load(cache_dir, splits["val"], space)
    vs, vt = evenly_spaced(val_mels, hop_frames=SEGMENT_FRAMES, per_song=config.val_segments_per_song)
    val_ds = tf.data.Dataset.from_tensor_slices(
        (val_mels.gather(vs, vt), {t: y[vs] for t, y in val_mels.labels.items()})
    ).batch(config.batch_size * 2)

    model = build_model(n_classes)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss={t: "sparse_categorical_crossentropy" for t in config.tasks},
        loss_weights=config.loss_weights(n_classes),
        metrics={t: ["accuracy"] for t in config.tasks},
        jit_compile=False,  # XLA measured several times slower for this network on CPU
    )
    steps = steps_per_epoch(
        train_mels,
        hop_frames=config.hop_frames,
        per_song=config.segments_per_song,
        batch_size=config.batch_size,
    )
    throughput = _Throughput(segments_per_epoch=steps * config.batch_size)
    config.save(run_dir / CONFIG_FILE)
    (run_dir / LABELS_FILE).write_text(json.dumps(space, indent=1, ensure_ascii=False), encoding="utf-8")
    if split_file.resolve() != (run_dir / SPLIT_FILE).resolve():
        shutil.copyfile(split_file, run_dir / SPLIT_FILE)
    history = model.fit(
        _dataset(train_mels, config),
        steps_per_epoch=steps,
        epochs=config.epochs,
        validation_data=val_ds,
        verbose=2,
        callbacks=[
            throughput,
            keras.callbacks.BackupAndRestore(str(run_dir / "backup")),  # resumes an interrupted run
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.patience, restore_best_weights=True
            ),
            keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE)),
            keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), profile_batch=0),
        ],
    )
    model.save(run_dir / MODEL_FILE)
    rates = throughput.rates[1:] or throughput.rates
    return TrainResult(
        run_dir=run_dir,
        epochs_run=len(history.history["loss"]),
        best_val_loss=float(np.min(history.history["val_loss"])),
        segments_per_second=float(np.median(rates)),
    )
