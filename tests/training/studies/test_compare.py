"""Table 1 formatting from fake metrics: mean ± sd, differences to the baseline, paired deltas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from training.config import TrainConfig
from training.run_folder import RunFolder
from training.studies.compare import mean_sd, paired_table, run_variant, table1


def fake_metrics(values: dict[str, float], *, auc: float | None = 0.8, n_songs: int = 18) -> dict[str, Any]:
    """Metrics as evaluate_run writes them: every metric of a task set to its value (AUCs to ``auc``)."""
    level = {"auc_roc": auc, "auc_pr": auc, "n": n_songs}
    return {
        "split": "test",
        "n_songs": n_songs,
        "tasks": {
            task: {lv: {**level, "top1": v, "macro_f1": v} for lv in ("segment", "song")}
            for task, v in values.items()
        },
    }


RESULTS = {
    "baseline": {f"seed{k}": fake_metrics({"artist": v}) for k, v in enumerate((0.5, 0.6, 0.7))},
    "cnn-language-only": {"seed0": fake_metrics({"language": 0.9})},
    "multitask": {
        f"seed{k}": fake_metrics({"artist": v, "language": 1.0}) for k, v in enumerate((0.6, 0.6, 0.9))
    },
    "no-auc": {"seed0": fake_metrics({"artist": 0.4}, auc=None)},
}


def test_table1_mean_sd_and_difference_to_baseline() -> None:
    text = table1(RESULTS, "artist", baseline="baseline")
    lines = text.strip().splitlines()
    assert lines[0].startswith("| model | runs | seg AUC-ROC | seg AUC-PR |")
    assert len(lines) == 2 + 3  # rows that do not predict the task are left out
    assert lines[2].startswith("| baseline | 3 | 0.800 ± 0.000 |")
    assert "| 0.600 ± 0.100 | 0.600 ± 0.100 |" in lines[2] and "(" not in lines[2]
    assert lines[3].startswith("| multitask | 3 | 0.800 ± 0.000 (+0.000) |")
    assert "0.700 ± 0.173 (+0.100)" in lines[3]
    assert lines[4] == ("| no-auc | 1 | n/a | n/a | n/a | n/a | 0.400 (-0.200) | 0.400 (-0.200) |")


def test_table1_without_baseline_values_shows_no_difference() -> None:
    text = table1(RESULTS, "language", baseline="baseline")
    assert "| cnn-language-only | 1 | 0.800 | 0.800 | 0.800 | 0.800 | 0.900 | 0.900 |" in text


def test_paired_table_counts_runs_up() -> None:
    text = paired_table(RESULTS, "artist", [("multitask", "baseline"), ("missing", "baseline")])
    lines = text.strip().splitlines()
    assert len(lines) == 3  # pairs without shared runs are left out
    assert lines[2].startswith("| multitask − baseline | 3 | +0.000 ± 0.000 (0/3 up) |")
    assert lines[2].endswith("| +0.100 ± 0.100 (2/3 up) |")


def test_mean_sd() -> None:
    assert mean_sd([1.0]) == (1.0, 0.0)
    assert mean_sd([1.0, 3.0]) == pytest.approx((2.0, 1.4142135))
    with pytest.raises(ValueError, match="at least one value"):
        mean_sd([])


def test_finished_run_is_not_retrained(tmp_path: Path) -> None:
    run = tmp_path / "run"
    metrics = fake_metrics({"artist": 0.5})
    RunFolder(run).write_metrics(metrics)
    # the cache and split do not exist: any attempt to train would fail
    assert run_variant(tmp_path / "no-cache", tmp_path / "no-split.json", run, TrainConfig()) == metrics
