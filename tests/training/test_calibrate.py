"""BatchNorm calibration: the statistics a trained network uses at inference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from frontend.audio import INPUT_SHAPE, SEGMENT_FRAMES
from training.calibrate import calibration_segments
from training.catalog import Song
from training.dataset import SongMels


def _songs(frames: list[int]) -> SongMels:
    songs = [Song(f"s{i}", Path(f"s{i}.flac"), {"artist": "a"}, f"s{i}") for i in range(len(frames))]
    mels = [np.full((n, INPUT_SHAPE[1]), i, np.float32) for i, n in enumerate(frames)]
    return SongMels(songs, mels, {"artist": np.zeros(len(frames), int)})


def test_calibration_segments_cover_every_song() -> None:
    songs = _songs([SEGMENT_FRAMES * 10] * 4)
    x = calibration_segments(songs, 6)
    assert x.shape == (6, *INPUT_SHAPE)
    assert set(np.unique(x[:, 0, 0, 0])) == {0.0, 1.0, 2.0, 3.0}


def test_calibration_segments_are_fewer_when_the_songs_hold_fewer() -> None:
    assert len(calibration_segments(_songs([SEGMENT_FRAMES * 2, SEGMENT_FRAMES]), 100)) == 3


def test_calibration_segments_refuse_nothing_to_draw() -> None:
    with pytest.raises(ValueError, match="n=0"):
        calibration_segments(_songs([SEGMENT_FRAMES]), 0)
