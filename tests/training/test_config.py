from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.config import TrainConfig


def test_alpha_defaults_to_the_ratio_of_class_counts() -> None:
    assert TrainConfig().loss_weights({"artist": 30, "language": 6}) == {"artist": 1.0, "language": 5.0}
    assert TrainConfig(alpha=1.0).loss_weights({"artist": 30, "language": 6})["language"] == 1.0
    assert TrainConfig(tasks=("artist",)).loss_weights({"artist": 30}) == {"artist": 1.0}


def test_any_number_of_tasks_each_weighted_by_the_rule_or_by_name() -> None:
    config = TrainConfig(tasks=("artist", "language", "genre"), task_weights={"genre": 0.25})
    weights = config.loss_weights({"artist": 30, "language": 6, "genre": 10})
    assert weights == {"artist": 1.0, "language": 5.0, "genre": 0.25}
    with pytest.raises(ValueError, match="task_weights"):
        TrainConfig(task_weights={"mood": 1.0})  # not a task
    with pytest.raises(ValueError, match="distinct"):
        TrainConfig(tasks=("artist", "artist"))


def test_round_trip_and_validation(tmp_path: Path) -> None:
    c = TrainConfig(tasks=("artist", "soundtrack"), alpha=0.5, seed=2)
    c.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == c
    with pytest.raises(ValueError, match="alpha"):
        TrainConfig(alpha=-1)
    with pytest.raises(ValueError, match="tasks"):
        TrainConfig(tasks=())


def test_a_config_from_before_batchnorm_calibration_loads_as_uncalibrated(tmp_path: Path) -> None:
    raw = TrainConfig().to_json()
    del raw["bn_epoch_calibration_segments"], raw["bn_calibration_segments"]
    (tmp_path / "old.json").write_text(json.dumps(raw))
    old = TrainConfig.load(tmp_path / "old.json")
    assert (old.bn_epoch_calibration_segments, old.bn_calibration_segments) == (0, 0)
    assert TrainConfig().bn_calibration_segments > 0  # new runs calibrate


@pytest.mark.parametrize("name", ["bn_epoch_calibration_segments", "bn_calibration_segments"])
def test_negative_calibration_sizes_are_refused_by_name(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} must be >= 0, got -1"):
        TrainConfig(**{name: -1})


def test_a_negative_outlier_exposure_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"outlier_exposure must be >= 0, got -0\.5"):
        TrainConfig(outlier_exposure=-0.5)


def test_outlier_exposure_trains_the_first_head_unless_another_task_is_named() -> None:
    assert TrainConfig(tasks=("artist", "language")).exposed_task == "artist"
    assert TrainConfig(tasks=("artist", "language"), exposure_task="language").exposed_task == "language"
    with pytest.raises(ValueError, match=r"exposure_task 'genre' is not one of the tasks"):
        TrainConfig(tasks=("artist", "language"), exposure_task="genre")


def test_the_train_command_passes_the_exposure_task_on() -> None:
    from training.cli.config import config_from_args
    from training.cli.main import build_parser

    args = build_parser().parse_args(
        [
            "train",
            "--cache",
            "c",
            "--split",
            "s",
            "--run",
            "r",
            "--outlier-exposure",
            "0.5",
            "--exposure-task",
            "language",
            "--exposure-excludes",
            "zxx",
        ]
    )
    config = config_from_args(args)
    assert (config.outlier_exposure, config.exposed_task, config.exposure_excludes) == (
        0.5,
        "language",
        ("zxx",),
    )


def test_excluded_labels_are_found_in_the_exposed_head_or_named() -> None:
    from training.train import excluded_classes

    config = TrainConfig(tasks=("artist", "language"), exposure_task="language", exposure_excludes=("zxx",))
    assert excluded_classes({"artist": ["a"], "language": ["en", "fr", "zxx"]}, config) == (2,)
    with pytest.raises(ValueError, match=r"exposure_excludes \['zxx'\] not among the language labels"):
        excluded_classes({"artist": ["a"], "language": ["en"]}, config)
