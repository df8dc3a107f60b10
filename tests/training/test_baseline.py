"""The trivial baseline: feature shapes, MFCC definition, and that it learns separable data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from frontend.audio import N_MELS, SEGMENT_FRAMES
from training import evaluate as evaluate_module
from training.baseline import (
    N_FEATURES,
    N_MFCC,
    BaselineConfig,
    LogRegBaseline,
    mfcc_from_log_mel,
    run_baseline,
    segment_features,
)
from training.catalog import Song
from training.dataset import SongMels
from training.evaluate import evaluate_predictor
from training.run_folder import RunFolder, confusion_file
from training.split import write_split


def _mel(cls: int, rng: np.random.Generator, n_frames: int = 3 * SEGMENT_FRAMES) -> np.ndarray:
    """Noise with a bright band whose position depends on the class: linearly separable."""
    mel = rng.normal(1.0, 0.3, size=(n_frames, N_MELS)).astype(np.float32)
    mel[:, 10 + 20 * cls : 20 + 20 * cls] += 2.0
    return mel


def _songs(n_per_class: int, n_classes: int, seed: int) -> SongMels:
    rng = np.random.default_rng(seed)
    songs, mels, y = [], [], []
    for c in range(n_classes):
        for k in range(n_per_class):
            songs.append(Song(f"s{seed}c{c}k{k}", Path(f"{c}/{k}.flac"), {"artist": f"a{c}"}, f"g{c}{k}"))
            mels.append(_mel(c, rng))
            y.append(c)
    return SongMels(songs, mels, {"artist": np.array(y)})


def test_features_shape_and_order() -> None:
    x = np.random.default_rng(0).normal(size=(5, SEGMENT_FRAMES, N_MELS, 1)).astype(np.float32)
    f = segment_features(x)
    assert f.shape == (5, N_FEATURES) == (5, 2 * (N_MELS + N_MFCC))
    assert f.dtype == np.float32
    np.testing.assert_allclose(f[:, :N_MELS], x[..., 0].mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(f[:, N_MELS : 2 * N_MELS], x[..., 0].std(axis=1), rtol=1e-4)
    assert np.array_equal(segment_features(x[..., 0]), f)  # channel axis optional


def test_features_reject_bad_shape() -> None:
    with pytest.raises(ValueError, match=r"shape \(n, frames, 96"):
        segment_features(np.zeros((2, SEGMENT_FRAMES, 40)))


def test_mfcc_is_librosa_mfcc_of_the_log_mel() -> None:
    import librosa

    seg = np.random.default_rng(1).normal(size=(1, SEGMENT_FRAMES, N_MELS)).astype(np.float32)
    ours = mfcc_from_log_mel(seg)[0]  # (frames, 20)
    ref = librosa.feature.mfcc(S=seg[0].T, n_mfcc=N_MFCC)  # (20, frames)
    np.testing.assert_allclose(ours, ref.T, atol=1e-4)
    with pytest.raises(ValueError, match=r"n_mfcc must be in 1\.\.96, got 0"):
        mfcc_from_log_mel(seg, n_mfcc=0)


def test_logistic_regression_beats_chance_on_separable_data() -> None:
    space = {"artist": [f"a{c}" for c in range(4)] + ["never-trained"]}
    model = LogRegBaseline.fit(_songs(3, 4, seed=0), space, BaselineConfig(tasks=("artist",)), seed=0)
    metrics, probs = evaluate_predictor(model.predictor, _songs(2, 4, seed=1), space)
    assert metrics["artist"]["song"]["top1"] == 1.0
    assert metrics["artist"]["segment"]["auc_roc"] > 0.95  # chance is 0.5
    seg = probs["artist"]["segment"]
    assert seg.shape[1] == 5 and np.allclose(seg.sum(axis=1), 1) and not seg[:, 4].any()


def test_config_errors_name_the_value() -> None:
    with pytest.raises(ValueError, match="c must be > 0, got 0"):
        BaselineConfig(c=0)
    with pytest.raises(ValueError, match="segments_per_song must be >= 1 or None, got 0"):
        BaselineConfig(segments_per_song=0)


def _cache_and_split(tmp_path: Path) -> tuple[Path, Path]:
    """A mel cache of 3 train and 3 test songs, 3 artists, and its split file."""
    cache = tmp_path / "cache"
    (cache / "mels").mkdir(parents=True)
    rows, assignment = ["song_id,path,group,n_frames,artist,language"], {}
    for split, seed, n in (("train", 0, 3), ("test", 1, 1)):
        data = _songs(n, 3, seed)
        for song, mel in zip(data.songs, data.mels, strict=True):
            np.save(cache / "mels" / f"{song.song_id}.npy", mel)
            rows.append(f"{song.song_id},{song.path},{song.group},{len(mel)},{song.labels['artist']},zxx")
            assignment[song.song_id] = split
    (cache / "index.csv").write_text("\n".join(rows) + "\n")
    write_split(tmp_path / "split.json", assignment)
    return cache, tmp_path / "split.json"


def test_run_baseline_writes_metrics_and_is_kept(tmp_path: Path) -> None:
    cache, split = _cache_and_split(tmp_path)
    config = BaselineConfig(tasks=("artist",), segments_per_song=2)
    metrics = run_baseline(cache, split, tmp_path / "run", config, seed=0)
    assert metrics["n_songs"] == 3 and metrics["tasks"]["artist"]["song"]["top1"] == 1.0
    run = RunFolder(tmp_path / "run")
    assert (run.eval_dir / confusion_file("artist")).is_file()
    assert json.loads(run.config.read_text())["model"] == "logistic-regression"
    assert run.read_metrics() == metrics
    (cache / "index.csv").unlink()  # a finished run is read back, not refitted
    assert run_baseline(cache, split, tmp_path / "run", config, seed=0) == metrics


def test_a_run_interrupted_while_plotting_is_not_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, split = _cache_and_split(tmp_path)
    config = BaselineConfig(tasks=("artist",), segments_per_song=2)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(evaluate_module, "plot_confusion", interrupted)
        with pytest.raises(KeyboardInterrupt):
            run_baseline(cache, split, tmp_path / "run", config, seed=0)
    run = RunFolder(tmp_path / "run")
    assert not run.is_finished  # metrics.json is written last: the next attempt runs it again
    metrics = run_baseline(cache, split, tmp_path / "run", config, seed=0)
    assert run.is_finished and run.read_metrics() == metrics and metrics["n_songs"] == 3
