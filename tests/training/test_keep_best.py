"""``KeepBest``: early stopping whose best epoch and patience survive an interruption."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from training.keep_best import KeepBest


def _model() -> keras.Model:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.stop_training = False  # as fit() sets it
    return model


def _set(model: keras.Model, value: float) -> None:
    model.set_weights([np.full_like(w, value) for w in model.get_weights()])


def _epoch(callback: KeepBest, model: keras.Model, epoch: int, val_loss: float) -> None:
    _set(model, float(epoch))  # each epoch's weights are recognisable by their value
    callback.on_epoch_end(epoch, {"val_loss": val_loss})


def test_a_resumed_run_ends_on_the_best_epoch_from_before_the_interruption(tmp_path: Path) -> None:
    model = _model()
    first = KeepBest(tmp_path / "backup", patience=5)
    first.set_model(model)
    first.on_train_begin()
    _epoch(first, model, 0, val_loss=2.0)
    _epoch(first, model, 1, val_loss=1.0)  # the best epoch
    _epoch(first, model, 2, val_loss=1.5)
    # interrupted here: a new process, a new model and callback, resumed at epoch 3
    model = _model()
    resumed = KeepBest(tmp_path / "backup", patience=5)
    resumed.set_model(model)
    resumed.on_train_begin()
    assert (resumed.best, resumed.best_epoch, resumed.wait) == (1.0, 1, 1)
    _epoch(resumed, model, 3, val_loss=1.2)
    resumed.on_train_end()
    assert all(np.all(w == 1.0) for w in model.get_weights())
    assert not model.stop_training


def test_patience_counts_the_epochs_before_the_interruption(tmp_path: Path) -> None:
    model = _model()
    first = KeepBest(tmp_path / "backup", patience=3)
    first.set_model(model)
    first.on_train_begin()
    for epoch, loss in enumerate([1.0, 1.1, 1.2]):
        _epoch(first, model, epoch, val_loss=loss)
    assert not model.stop_training
    model = _model()
    resumed = KeepBest(tmp_path / "backup", patience=3)
    resumed.set_model(model)
    resumed.on_train_begin()
    _epoch(resumed, model, 3, val_loss=1.3)  # the third epoch without improvement
    assert model.stop_training


def test_a_fresh_run_ignores_a_state_without_weights_and_bad_arguments_are_named(tmp_path: Path) -> None:
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "best.json").write_text('{"best": 0.1, "epoch": 4, "wait": 2}')
    callback = KeepBest(tmp_path / "backup", patience=2)
    callback.set_model(_model())
    callback.on_train_begin()
    assert (callback.best_epoch, callback.wait) == (-1, 0)
    with pytest.raises(KeyError, match="val_loss"):
        callback.on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(ValueError, match="patience must be >= 1, got 0"):
        KeepBest(tmp_path, patience=0)
