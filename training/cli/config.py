"""The training configuration's command-line flags, shared by ``songid train`` and ``songid compare``."""

from __future__ import annotations

import argparse

from frontend.audio import SEGMENT_FRAMES
from training.config import TrainConfig


def tasks(text: str) -> tuple[str, ...]:
    tasks = tuple(t.strip() for t in text.split(",") if t.strip())
    if not tasks:
        raise argparse.ArgumentTypeError(f"give one or more comma-separated tasks, got {text!r}")
    return tasks


def task_weight(text: str) -> tuple[str, float]:
    task, _, weight = text.partition("=")
    try:
        return task.strip(), float(weight)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"give TASK=WEIGHT, got {text!r}") from e


def add_config_args(p: argparse.ArgumentParser) -> None:
    """Every :class:`TrainConfig` field a run is usually given, as flags."""
    p.add_argument("--tasks", type=tasks, default=("artist", "language"), help="heads, primary first")
    p.add_argument("--backbone", default=TrainConfig.backbone, help="the trunk (training.backbones)")
    p.add_argument("--alpha", type=float, default=None, help="later tasks' loss weight (default N1/N_task)")
    p.add_argument(
        "--task-weight",
        type=task_weight,
        action="append",
        default=[],
        metavar="TASK=WEIGHT",
        help="one task's loss weight, overriding --alpha; repeat for several",
    )
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--patience", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--segments-per-song", type=int, default=40, help="cap per epoch; 0 = all")
    p.add_argument("--hop-frames", type=int, default=SEGMENT_FRAMES, help="training segment hop")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--bn-epoch-calibration-segments",
        type=int,
        default=TrainConfig.bn_epoch_calibration_segments,
        help="training segments that set BatchNorm's inference statistics before each validation; 0 = off",
    )
    p.add_argument(
        "--bn-calibration-segments",
        type=int,
        default=TrainConfig.bn_calibration_segments,
        help="the same for the kept weights at the end of training; 0 = off",
    )
    p.add_argument(
        "--outlier-exposure",
        type=float,
        default=0.0,
        help="weight of outlier exposure on the split's exposure songs (0 = off, the paper's recipe)",
    )
    p.add_argument(
        "--exposure-task",
        default="",
        help="the head outlier exposure trains towards uniform (default: the first task)",
    )
    p.add_argument(
        "--exposure-excludes",
        nargs="*",
        default=[],
        help="labels of that head left out of the outliers' uniform target (e.g. zxx for singing)",
    )
    p.add_argument("--describe", default="", help="what the data is, for the model card")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` of flags added by :func:`add_config_args`."""
    return TrainConfig(
        tasks=args.tasks,
        backbone=args.backbone,
        alpha=args.alpha,
        task_weights=dict(args.task_weight),
        epochs=args.epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        segments_per_song=args.segments_per_song or None,
        hop_frames=args.hop_frames,
        seed=args.seed,
        bn_epoch_calibration_segments=args.bn_epoch_calibration_segments,
        bn_calibration_segments=args.bn_calibration_segments,
        outlier_exposure=args.outlier_exposure,
        exposure_task=args.exposure_task,
        exposure_excludes=tuple(args.exposure_excludes),
        notes={"data": str(args.cache), **({"description": args.describe} if args.describe else {})},
    )
