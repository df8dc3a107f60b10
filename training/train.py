"""Train the paper's network on the mel cache, one run folder per run.

A run folder holds everything needed to evaluate and export it; its layout is
:mod:`training.run_folder`'s.

Several workers: when ``TF_CONFIG`` names a cluster, every worker runs ``songid train`` with
the same arguments and training uses ``tf.distribute.MultiWorkerMirroredStrategy``. The
global batch is ``batch_size`` x replicas (one replica per worker on CPU), so each replica
still sees ``batch_size`` segments per step and an epoch takes proportionally fewer steps.
Only the chief (task ``chief``, or ``worker`` 0 when there is none) writes the run folder;
the others write to a temporary folder that is deleted when they finish. Resuming an
interrupted multi-worker run needs the run folder on storage that every worker sees.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from frontend.audio import N_MELS, SEGMENT_FRAMES
from training.backbones import get_backbone
from training.calibrate import CalibrateBackbone, calibration_segments
from training.config import TrainConfig
from training.dataset import SongMels, epoch_batches, evenly_spaced, label_space, steps_per_epoch
from training.distribute import Cluster, cluster_from_environment, shard_by_data
from training.keep_best import KeepBest
from training.losses import PartialLabelLoss
from training.model import build_model
from training.run_folder import RunFolder, songs_by_split

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    epochs_run: int
    best_val_loss: float
    segments_per_second: float


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


def excluded_classes(space: dict[str, list[str]], config: TrainConfig) -> tuple[int, ...]:
    """Indices of ``config.exposure_excludes`` in the exposed head's label space.

    Raises:
        ValueError: an excluded label is not in that head's label space.
    """
    names = space.get(config.exposed_task, [])
    missing = [label for label in config.exposure_excludes if label not in names]
    if missing:
        raise ValueError(f"exposure_excludes {missing} not among the {config.exposed_task} labels {names}")
    return tuple(names.index(label) for label in config.exposure_excludes)


def compile_for_training(
    model: keras.Model,
    config: TrainConfig,
    n_classes: dict[str, int],
    *,
    excluded: tuple[int, ...] = (),
    jit_compile: bool = False,
    steps_per_execution: int = 1,
) -> None:
    """The paper's optimisation: Adam, one cross-entropy per head, L = L_first + alpha * L_second.

    Each head's cross-entropy skips the segments not labelled for it, and with
    ``config.outlier_exposure`` one head (the first unless ``config.exposure_task``) also learns
    uncertainty on outliers, spread over its classes but the ``excluded`` indices
    (:class:`training.losses.PartialLabelLoss`).

    ``jit_compile`` stays off by default: XLA measured several times slower for this network on CPU.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss={
            t: PartialLabelLoss(exposure=config.outlier_exposure, excluded=excluded)
            if t == config.exposed_task
            else PartialLabelLoss()
            for t in config.tasks
        },
        loss_weights=config.loss_weights(n_classes),
        metrics={t: ["accuracy"] for t in config.tasks},
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )


def _dataset(songs: SongMels, config: TrainConfig, cluster: Cluster) -> tf.data.Dataset:
    """Endless training batches; on a cluster, global batches of ``batch_size`` x replicas.

    Every worker draws the same segments (same seed); the DATA auto-shard policy gives each
    replica its ``batch_size`` rows of each global batch, so together they see every
    segment of an epoch once. Global batches are re-cut from the stream with
    ``drop_remainder``, so no replica ever gets a short or empty batch.
    """
    signature = (
        tf.TensorSpec((None, SEGMENT_FRAMES, N_MELS, 1), tf.float32),
        {t: tf.TensorSpec((None,), tf.int64) for t in config.tasks},
    )
    dataset = tf.data.Dataset.from_generator(
        lambda: epoch_batches(
            songs,
            hop_frames=config.hop_frames,
            per_song=config.segments_per_song,
            batch_size=config.batch_size,
            seed=config.seed,
        ),
        output_signature=signature,
    )
    if cluster.distributed:
        dataset = shard_by_data(
            dataset.unbatch().batch(config.batch_size * cluster.replicas, drop_remainder=True)
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def _backup_dir(run_dir: Path, write_dir: Path) -> Path:
    """Where this worker's BackupAndRestore keeps its state.

    The chief uses the run folder's ``backup/``. Another worker starts from a copy of it in
    its temporary folder, so an interrupted run resumes at the same epoch everywhere while
    only the chief writes into the run folder.
    """
    shared = RunFolder(run_dir).backup
    if write_dir == run_dir:
        return shared
    own = RunFolder(write_dir).backup
    if shared.is_dir():
        shutil.copytree(shared, own)
    return own


def train(cache_dir: Path, split_file: Path, run_dir: Path, config: TrainConfig) -> TrainResult:
    """Train one model and write its run folder.

    With ``TF_CONFIG`` set, this is one worker of a multi-worker run (see the module
    docstring): every worker calls it with the same arguments, and only the chief writes
    ``run_dir``.

    Args:
        cache_dir: a prepared mel cache (``songid prepare``).
        split_file: the song-level split (``songid split``); copied into the run.
        run_dir: output folder, created.
        config: hyper-parameters; saved as ``config.json``. ``batch_size`` is per replica.
    """
    cluster = cluster_from_environment()  # first: configures TensorFlow's collective ops
    write_dir = run_dir if cluster.is_chief else Path(tempfile.mkdtemp(prefix="songid-worker-"))
    try:
        return _train(cache_dir, split_file, run_dir, config, cluster, write_dir)
    finally:
        if write_dir != run_dir:
            shutil.rmtree(write_dir, ignore_errors=True)


def _train(
    cache_dir: Path, split_file: Path, run_dir: Path, config: TrainConfig, cluster: Cluster, write_dir: Path
) -> TrainResult:
    """:func:`train` on one worker; everything is written under ``write_dir``."""
    splits = songs_by_split(cache_dir, split_file)  # checked before anything is written
    if not splits["train"] or not splits["val"]:
        raise ValueError(
            f"{split_file}: needs train and val songs, got { {k: len(v) for k, v in splits.items()} }"
        )
    if config.outlier_exposure > 0 and not splits["exposure"]:
        raise ValueError(f"{split_file}: outlier_exposure is on but the split has no exposure songs")
    write_dir.mkdir(parents=True, exist_ok=True)
    if cluster.distributed:
        log.info(
            "multi-worker training: %s, global batch %d (%d per replica x %d replicas)",
            "chief" if cluster.is_chief else f"worker writing to {write_dir}",
            config.batch_size * cluster.replicas,
            config.batch_size,
            cluster.replicas,
        )
    space = label_space(splits["train"] + splits["val"] + splits["test"], config.tasks)
    n_classes = {t: len(names) for t, names in space.items()}
    excluded = excluded_classes(space, config)
    keras.utils.set_random_seed(config.seed)

    train_mels = SongMels.load(cache_dir, splits["train"], space)
    if config.outlier_exposure > 0:
        train_mels += SongMels.load(
            cache_dir,
            splits["exposure"],
            space,
            outliers_for=config.exposed_task,
            cap=config.exposure_segments_per_song,
        )
    val_mels = SongMels.load(cache_dir, splits["val"], space)
    vs, vt = evenly_spaced(val_mels, hop_frames=SEGMENT_FRAMES, per_song=config.val_segments_per_song)
    global_batch = config.batch_size * cluster.replicas
    val_ds = tf.data.Dataset.from_tensor_slices(
        (val_mels.gather(vs, vt), {t: y[vs] for t, y in val_mels.labels.items()})
    ).batch(global_batch * 2)
    if cluster.distributed:
        val_ds = shard_by_data(val_ds)

    with cluster.strategy.scope():
        model = build_model(n_classes, backbone=config.backbone)
        compile_for_training(model, config, n_classes, excluded=excluded)
    steps = steps_per_epoch(
        train_mels,
        hop_frames=config.hop_frames,
        per_song=config.segments_per_song,
        batch_size=global_batch,
    )
    throughput = _Throughput(segments_per_epoch=steps * global_batch)
    out = RunFolder(write_dir)
    out.write_config(config)
    out.write_labels(space)
    if split_file.resolve() != out.split.resolve():
        shutil.copyfile(split_file, out.split)
    calibrate = get_backbone(config.backbone).calibration
    calibration = (
        [CalibrateBackbone(calibrate, calibration_segments(train_mels, config.bn_epoch_calibration_segments))]
        if calibrate is not None and config.bn_epoch_calibration_segments
        else []
    )
    backup = _backup_dir(run_dir, write_dir)
    resuming = backup.is_dir()
    keep_best = KeepBest(backup, patience=config.patience)
    history = model.fit(
        _dataset(train_mels, config, cluster),
        steps_per_epoch=steps,
        epochs=config.epochs,
        validation_data=val_ds,
        verbose=2,
        callbacks=[
            throughput,
            *calibration,
            # early stopping whose best epoch survives an interruption; before BackupAndRestore,
            # which removes the folder it keeps that epoch in once training ends
            keep_best,
            # resumes an interrupted run
            keras.callbacks.BackupAndRestore(str(backup)),
            # a resumed run adds its epochs to those written before the interruption
            keras.callbacks.CSVLogger(str(out.history), append=resuming),
            keras.callbacks.TensorBoard(log_dir=str(out.tensorboard), profile_batch=0),
        ],
    )
    if calibrate is not None and config.bn_calibration_segments:  # the kept weights, on more segments
        calibrate(model, calibration_segments(train_mels, config.bn_calibration_segments))
    model.save(out.model)
    rates = throughput.rates[1:] or throughput.rates
    return TrainResult(
        run_dir=run_dir,
        epochs_run=len(history.history["loss"]),
        best_val_loss=keep_best.best,
        segments_per_second=float(np.median(rates)),
    )
