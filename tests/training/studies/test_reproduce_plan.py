"""The reproduction plans: what each benchmark trains, and the configuration it records."""

from __future__ import annotations

import pytest

from training.studies.reproduce_plan import benchmark_plan


@pytest.mark.parametrize("name", ["gamemusic", "voices"])
@pytest.mark.parametrize("smoke", [False, True])
def test_recorded_configuration_names_the_benchmarks_own_tasks(name: str, smoke: bool) -> None:
    plan = benchmark_plan(name, smoke=smoke)
    assert plan.train.tasks == plan.tasks
    assert plan.baseline.tasks == plan.tasks
    for section in plan.sections:
        for row in section.rows:
            assert set(row.tasks) <= set(plan.tasks), row.name
            assert plan.row_config(row, seed=0).tasks == row.tasks


def test_augmented_rows_see_as_many_segments_per_epoch_as_plain_ones() -> None:
    plan = benchmark_plan("voices")
    assert plan.augment is not None and plan.train.segments_per_song is not None
    augmented = [r for s in plan.sections for r in s.rows if r.augmented and not r.baseline]
    assert augmented
    for row in augmented:
        per_copy = plan.row_config(row, seed=0).segments_per_song
        assert per_copy is not None
        assert per_copy * (1 + plan.augment.copies) == plan.train.segments_per_song


def test_unknown_benchmark_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="'nope'"):
        benchmark_plan("nope")


@pytest.mark.parametrize("name", ["gamemusic", "voices"])
def test_every_cnn_row_trains_with_calibrated_batch_norm(name: str) -> None:
    """Running statistics gathered under dropout are wrong at inference: no plan trains without."""
    plan = benchmark_plan(name)
    for section in plan.sections:
        for row in section.rows:
            if not row.baseline:
                config = plan.row_config(row, seed=0)
                assert config.bn_epoch_calibration_segments > 0, row.name
                assert config.bn_calibration_segments > 0, row.name
