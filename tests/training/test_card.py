"""The model card written beside an export."""

from __future__ import annotations

from training.card import model_card

LABELS = {"artist": ["Ann", "Bo"], "language": ["en", "zxx"]}
METRICS = {
    "n_songs": 4,
    "split": "test",
    "tasks": {"artist": {"song": {"auc_roc": 0.75, "auc_pr": None, "top1": 0.5, "macro_f1": 0.25}}},
}


def test_card_names_version_labels_and_measured_metrics() -> None:
    card = model_card("m", 4, LABELS, {"tasks": ["artist", "language"]}, METRICS)
    assert card.startswith("# Model card: m (version 4)")
    assert "- `artist`: 2 classes: Ann, Bo" in card
    assert "Measured on 4 held-out test songs" in card
    assert "| artist | song | 0.750 | n/a | 0.500 | 0.250 |" in card


def test_card_says_how_batchnorm_statistics_were_set() -> None:
    calibrated = model_card("m", 1, LABELS, {"bn_calibration_segments": 1024}, METRICS)
    assert "measured at inference (dropout off) on 1024 training segments" in calibrated
    per_epoch = model_card("m", 1, LABELS, {"bn_epoch_calibration_segments": 256}, METRICS)
    assert "on 256 training segments, each epoch" in per_epoch
    for config in ({}, {"bn_calibration_segments": 0}):  # older runs have no such entry
        assert "running ones of training (not calibrated)" in model_card("m", 1, LABELS, config, METRICS)


def test_card_without_metrics_says_so() -> None:
    assert "No evaluation metrics were recorded" in model_card("m", 1, LABELS, {}, {})
