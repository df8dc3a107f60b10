"""``train``: an interrupted run resumes at its epoch; its history and kept epoch cover every epoch."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import write_catalog
from training import train as train_module
from training.cli.main import main
from training.config import TrainConfig
from training.run_folder import RunFolder
from training.train import train

pytestmark = pytest.mark.slow


def _history(run: Path, column: str) -> list[float]:
    with RunFolder(run).history.open(newline="") as f:
        return [float(row[column]) for row in csv.DictReader(f)]


def test_an_interrupted_run_resumes_and_keeps_the_history_of_every_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_catalog(tmp_path / "data", songs_per_artist=3)
    cache, split, run = tmp_path / "cache", tmp_path / "split.json", tmp_path / "run"
    assert main(["prepare", "--data", str(tmp_path / "data"), "--cache", str(cache)]) == 0
    assert main(["split", "--cache", str(cache), "--out", str(split), "--seed", "0"]) == 0
    config = TrainConfig(
        epochs=3,
        patience=3,
        segments_per_song=2,
        val_segments_per_song=2,
        bn_epoch_calibration_segments=0,
        bn_calibration_segments=0,
    )

    measure = train_module._Throughput.on_epoch_end

    def interrupt_in_the_second_epoch(
        self: train_module._Throughput, epoch: int, logs: dict | None = None
    ) -> None:
        if epoch == 1:
            raise KeyboardInterrupt
        measure(self, epoch, logs)

    with monkeypatch.context() as patch:
        patch.setattr(train_module._Throughput, "on_epoch_end", interrupt_in_the_second_epoch)
        with pytest.raises(KeyboardInterrupt):
            train(cache, split, run, config)
    folder = RunFolder(run)
    assert folder.backup.is_dir() and not folder.model.exists()
    assert _history(run, "epoch") == [0]

    result = train(cache, split, run, config)
    assert result.epochs_run == 2  # epochs 1 and 2: epoch 0 is not trained again
    assert _history(run, "epoch") == [0, 1, 2]
    # chosen among all three epochs
    assert result.best_val_loss == pytest.approx(min(_history(run, "val_loss")))
    assert folder.is_trained and not folder.backup.exists()


def test_exposure_without_exposure_songs_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    write_catalog(tmp_path / "data", songs_per_artist=3)
    cache, split, run = tmp_path / "cache", tmp_path / "split.json", tmp_path / "run"
    assert main(["prepare", "--data", str(tmp_path / "data"), "--cache", str(cache)]) == 0
    assert main(["split", "--cache", str(cache), "--out", str(split), "--seed", "0"]) == 0
    with pytest.raises(ValueError, match="outlier_exposure is on but the split has no exposure songs"):
        train(cache, split, run, TrainConfig(epochs=1, outlier_exposure=0.5))
    assert not run.exists()
