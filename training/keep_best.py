"""Early stopping on validation loss that survives an interruption.

Keras' ``EarlyStopping`` holds its best weights and patience count in memory, so a run resumed by
``BackupAndRestore`` would choose its kept epoch among the epochs after the resume only, and wait
its full patience again. :class:`KeepBest` keeps both in the backup folder, so the resumed run
keeps the same epoch an uninterrupted one would.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import keras

WEIGHTS_FILE = "best.weights.h5"
STATE_FILE = "best.json"


class KeepBest(keras.callbacks.Callback):
    """Stop after ``patience`` epochs without a lower ``monitor``; end on the best epoch's weights.

    Args:
        folder: where the best weights and the state (epoch, value, epochs waited) are kept;
            the backup folder of ``BackupAndRestore``, so they are removed with it. Put this
            callback before ``BackupAndRestore``, which deletes that folder when training ends.
        patience: epochs without improvement before training stops.
        monitor: the validation metric to minimise.
    """

    def __init__(self, folder: Path, *, patience: int, monitor: str = "val_loss") -> None:
        super().__init__()
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        self.folder, self.patience, self.monitor = folder, patience, monitor
        self.best, self.best_epoch, self.wait = math.inf, -1, 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        state = self.folder / STATE_FILE
        if state.is_file() and (self.folder / WEIGHTS_FILE).is_file():  # a resumed run
            kept = json.loads(state.read_text(encoding="utf-8"))
            self.best, self.best_epoch, self.wait = float(kept["best"]), int(kept["epoch"]), int(kept["wait"])
        else:
            self.best, self.best_epoch, self.wait = math.inf, -1, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            raise KeyError(f"{self.monitor!r} is not in the epoch's logs: {sorted(logs or {})}")
        self.folder.mkdir(parents=True, exist_ok=True)
        if float(current) < self.best:
            self.best, self.best_epoch, self.wait = float(current), epoch, 0
            self.model.save_weights(str(self.folder / WEIGHTS_FILE), overwrite=True)
        else:
            self.wait += 1
        state = {"best": self.best, "epoch": self.best_epoch, "wait": self.wait}
        (self.folder / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        if self.wait >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if (self.folder / WEIGHTS_FILE).is_file():
            self.model.load_weights(str(self.folder / WEIGHTS_FILE))
