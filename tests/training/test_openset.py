"""Open-set scores: fitted on known classes, they rank far-away songs below known ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from frontend.artifact import load_artifact
from frontend.audio import N_MELS
from tests.service.samples import LABELS, make_artifact
from training.cli.main import main
from training.openset import Network, SongOutputs, fit_scores, measure

DIM = 12


def songs(
    rng: np.random.Generator, centre: np.ndarray, n: int, *, label: int, n_classes: int
) -> list[SongOutputs]:
    out = []
    for _ in range(n):
        segments = centre + rng.normal(0, 1.0, (6, DIM))
        probs = np.full(n_classes, 0.1 / (n_classes - 1))
        probs[label] = 0.9
        out.append(SongOutputs({"artist": probs}, segments, segments.mean(axis=0)))
    return out


def test_distance_scores_separate_songs_far_from_every_class() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 6.0, (3, DIM))
    split = {part: [] for part in ("train", "val", "test")}
    labels = {part: [] for part in split}
    for c, centre in enumerate(centres):
        for part, n in (("train", 20), ("val", 10), ("test", 10)):
            split[part] += songs(rng, centre, n, label=c, n_classes=3)
            labels[part] += [c] * n
    unknown = songs(rng, rng.normal(0, 6.0, DIM) + 30.0, 15, label=0, n_classes=3)
    scores = fit_scores(split["train"], np.array(labels["train"]), "artist")
    assert set(scores) == {"max_probability", "centroid_cosine", "mahalanobis", "lda_cosine", "nearest_song"}
    figures = {
        name: measure(
            score,
            name,
            val=split["val"],
            test=split["test"],
            test_labels=np.array(labels["test"]),
            unknown=unknown,
            task="artist",
        )
        for name, score in scores.items()
    }
    assert figures["mahalanobis"].auroc == pytest.approx(1.0)
    assert figures["mahalanobis"].false_accepts == 0.0
    assert figures["mahalanobis"].accepted_top1 == 1.0
    assert figures["max_probability"].auroc == pytest.approx(0.5)  # every song says 0.9: no information
    assert figures["centroid_cosine"].auroc > 0.9  # the unknown songs lie far off every class direction
    assert (figures["mahalanobis"].n_known, figures["mahalanobis"].n_unknown) == (30, 15)


def test_a_network_without_an_embedding_output_gets_one(tmp_path: Path) -> None:
    make_artifact(tmp_path)
    network = Network(load_artifact(tmp_path))
    mel = np.random.default_rng(0).uniform(0, 3, (187 * 2 + 20, N_MELS)).astype(np.float32)
    song = network.song(mel)
    assert song.segments.shape == (2, N_MELS)
    assert list(song.probs) == list(LABELS)
    assert song.probs["artist"].sum() == pytest.approx(1.0, abs=1e-5)


def test_the_command_refuses_bad_arguments_by_name_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["openset", "--cache", str(tmp_path / "cache"), "--split", str(tmp_path / "split.json")]
    args += ["--unknown", str(tmp_path / "outsiders.csv"), "--work", str(tmp_path / "work")]
    args += ["--out", str(tmp_path / "openset.md")]
    assert main([*args, "--known-only", "languagezxx"]) == 2
    assert "--known-only takes task=label, got 'languagezxx'" in capsys.readouterr().err
    assert main(args) == 2
    assert "split.json" in capsys.readouterr().err
    assert not (tmp_path / "work").exists() and not (tmp_path / "openset.md").exists()
