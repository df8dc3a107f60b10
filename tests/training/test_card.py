"""The model card written beside an export."""

from __future__ import annotations

from frontend.openset import OpenSetRule
from training.card import CLOSED_SET, model_card, with_openset

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


def test_the_open_set_section_is_added_once_and_replaced() -> None:
    card = model_card("m", 1, LABELS, {}, METRICS)
    rules = {"artist": OpenSetRule("max_probability", 0.25, {"val_songs": 38})}
    once = with_openset(card, rules)
    assert "`artist`: `max_probability` >= 0.25 is known, else unknown; measured: val_songs 38" in once
    assert once.index("## Open set") < once.index("## Front end")
    assert CLOSED_SET not in once
    again = with_openset(once, {"artist": OpenSetRule("max_probability", 0.5)})
    assert again.count("## Open set") == 1 and ">= 0.5 is known" in again and ">= 0.25" not in again


def test_the_gallery_section_is_written_once_before_the_front_end() -> None:
    import numpy as np

    from frontend.centroids import ArtistCentroids
    from training.card import GALLERY_HEADING, with_centroids

    centroids = ArtistCentroids(np.zeros(4), ["a"], np.ones((1, 4)), [2], 0.5, {"auroc": 0.7})
    card = "# Card\n\n## Metrics\nx\n\n## Front end\nsample_rate=16000\n"
    once = with_centroids(card, centroids)
    twice = with_centroids(once, centroids)
    assert once == twice and once.count(GALLERY_HEADING) == 1
    assert once.index(GALLERY_HEADING) < once.index("## Front end")
    assert "cosine >= 0.5" in once and "auroc 0.7" in once
