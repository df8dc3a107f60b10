"""A backbone's calibration step in training: before every validation and once on the kept weights.

What is calibrated is the backbone's (:attr:`training.backbones.Backbone.calibration`; the paper's
CNN sets its BatchNorm statistics at inference, :mod:`training.backbones.batchnorm`); this module
chooses the training segments it runs on and runs it during ``fit`` and on a finished run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from frontend.audio import SEGMENT_FRAMES
from training.backbones import Calibration, get_backbone
from training.dataset import SongMels, evenly_spaced
from training.model import load_model
from training.run_folder import RunFolder


def calibration_segments(songs: SongMels, n: int) -> np.ndarray:
    """``n`` segments ``(n, 187, 96, 1)`` spread evenly over every song (fewer if they have fewer)."""
    if n < 1 or not songs.songs:
        raise ValueError(f"need n >= 1 and at least one song, got n={n}, {len(songs.songs)} songs")
    per_song = -(-n // len(songs.songs))
    s, t = evenly_spaced(songs, hop_frames=SEGMENT_FRAMES, per_song=per_song)
    if len(s) > n:
        keep = np.linspace(0, len(s) - 1, n).round().astype(int)
        s, t = s[keep], t[keep]
    return songs.gather(s, t)


class CalibrateBackbone(keras.callbacks.Callback):
    """Run the backbone's calibration before every validation of ``fit``.

    Best-weight restoring and checkpoints save after validation, so they keep the calibrated
    statistics of the epoch they keep.
    """

    def __init__(self, calibration: Calibration, segments: np.ndarray) -> None:
        super().__init__()
        self.calibration = calibration
        self.segments = segments

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.calibration(self.model, self.segments)


def calibrate_run(run_dir: Path, cache_dir: Path, *, segments: int) -> int:
    """Run the backbone's calibration on a trained run's ``model.keras`` and its training songs, in place.

    For runs trained without the final calibration (``bn_calibration_segments`` 0): their weights stay,
    their BatchNorm statistics become the inference-time ones, and ``config.json`` records
    the number of segments used. Evaluate and export the run again afterwards.

    Returns:
        the number of segments the statistics were measured on.
    """
    run = RunFolder(run_dir)
    config = run.read_config()
    calibration = get_backbone(config.backbone).calibration
    if calibration is None:
        raise ValueError(f"{run_dir}: backbone {config.backbone!r} has no calibration step")
    train_songs = run.songs_by_split(cache_dir)["train"]
    x = calibration_segments(SongMels.load(cache_dir, train_songs, run.read_labels()), segments)
    model = load_model(run.model)
    calibration(model, x)
    model.save(run.model)
    config.bn_calibration_segments = len(x)
    run.write_config(config)
    return len(x)
