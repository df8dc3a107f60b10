from __future__ import annotations

from pathlib import Path

import pytest

from training.config import TrainConfig


def test_alpha_defaults_to_the_ratio_of_class_counts() -> None:
    assert TrainConfig().loss_weights({"artist": 30, "language": 6}) == {"artist": 1.0, "language": 5.0}
    assert TrainConfig(alpha=1.0).loss_weights({"artist": 30, "language": 6})["language"] == 1.0
    assert TrainConfig(tasks=("artist",)).loss_weights({"artist": 30}) == {"artist": 1.0}


def test_round_trip_and_validation(tmp_path: Path) -> None:
    c = TrainConfig(tasks=("artist", "soundtrack"), alpha=0.5, seed=2)
    c.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == c
    with pytest.raises(ValueError, match="alpha"):
        TrainConfig(alpha=-1)
    with pytest.raises(ValueError, match="tasks"):
        TrainConfig(tasks=())
