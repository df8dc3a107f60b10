"""Segments from the mel cache: label spaces, per-epoch sampling and the tf.data pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from frontend.audio import N_MELS, SEGMENT_FRAMES
from training.catalog import Song
from training.prepare import mel_path

LabelSpace = dict[str, list[str]]  # task -> class names, index = output unit
MASKED: Final = -1  # label of a song not labelled for a task: its loss is skipped
OUTLIER: Final = -2  # label of a song by nobody in the task's label set (outlier exposure)


def label_space(songs: list[Song], tasks: tuple[str, ...]) -> LabelSpace:
    """Sorted class names per task, over every song (so test-only classes still have an index);
    an empty label (a song not labelled for the task) is no class."""
    missing = [t for t in tasks if any(t not in s.labels for s in songs)]
    if missing:
        raise ValueError(f"task column(s) {missing} not in the catalog; have {sorted(songs[0].labels)}")
    return {t: sorted({s.labels[t] for s in songs} - {""}) for t in tasks}


def _label_index(song: Song, task: str, names: list[str]) -> int:
    label = song.labels.get(task, "")
    return names.index(label) if label in names else MASKED


@dataclass
class SongMels:
    """The cached log-mels of some songs and their integer labels."""

    songs: list[Song]
    mels: list[np.ndarray]  # each (n_frames, N_MELS), n_frames >= SEGMENT_FRAMES
    labels: dict[str, np.ndarray]  # task -> (n_songs,) int; MASKED: unlabelled, OUTLIER: outside the set
    # per song, at most this many training segments an epoch (None: the sampler's per_song alone)
    caps: list[int | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.caps:
            self.caps = [None] * len(self.songs)

    @classmethod
    def load(
        cls,
        cache_dir: Path,
        songs: list[Song],
        space: LabelSpace,
        *,
        outliers_for: str | None = None,
        cap: int | None = None,
    ) -> SongMels:
        """The songs' mels and labels; a label outside ``space`` (or empty) is MASKED.

        ``outliers_for``: a task whose label is OUTLIER for every one of these songs (music by
        people outside its label set, for outlier exposure). ``cap``: at most this many training
        segments a song each epoch.
        """
        mels = []
        for s in songs:
            mel = np.load(mel_path(cache_dir, s.song_id))
            if mel.shape[0] < SEGMENT_FRAMES:
                mel = np.pad(mel, ((0, SEGMENT_FRAMES - mel.shape[0]), (0, 0)))
            mels.append(mel)
        labels = {
            t: np.array(
                [OUTLIER if t == outliers_for else _label_index(s, t, names) for s in songs], dtype=np.int64
            )
            for t, names in space.items()
        }
        return cls(songs, mels, labels, [cap] * len(songs))

    def __add__(self, other: SongMels) -> SongMels:
        return SongMels(
            self.songs + other.songs,
            self.mels + other.mels,
            {t: np.concatenate([y, other.labels[t]]) for t, y in self.labels.items()},
            self.caps + other.caps,
        )

    def limits(self, per_song: int | None) -> list[int | None]:
        """Each song's most segments an epoch: ``per_song`` and its own cap, the smaller."""
        return [
            per_song if cap is None else cap if per_song is None else min(cap, per_song) for cap in self.caps
        ]

    def starts(self, hop_frames: int) -> list[np.ndarray]:
        """Possible segment start frames of each song."""
        return [np.arange(0, m.shape[0] - SEGMENT_FRAMES + 1, hop_frames) for m in self.mels]

    def gather(self, song_idx: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Segments ``(n, SEGMENT_FRAMES, N_MELS, 1)`` at the given (song, start frame) pairs."""
        out = np.empty((len(song_idx), SEGMENT_FRAMES, N_MELS, 1), dtype=np.float32)
        for i, (s, t) in enumerate(zip(song_idx, start, strict=True)):
            out[i, :, :, 0] = self.mels[s][t : t + SEGMENT_FRAMES]
        return out


def evenly_spaced(songs: SongMels, *, hop_frames: int, per_song: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (song index, start frame) pairs: all segments, or ``per_song`` evenly spaced."""
    pairs_s, pairs_t = [], []
    for i, starts in enumerate(songs.starts(hop_frames)):
        if per_song is not None and len(starts) > per_song:
            starts = starts[np.linspace(0, len(starts) - 1, per_song).round().astype(int)]
        pairs_s.append(np.full(len(starts), i))
        pairs_t.append(starts)
    return np.concatenate(pairs_s), np.concatenate(pairs_t)


def sample_epoch(
    songs: SongMels, *, hop_frames: int, per_song: int | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (song index, start frame) pairs for one epoch, at most ``per_song`` per song (and
    at most each song's own cap)."""
    pairs_s, pairs_t = [], []
    for i, (starts, limit) in enumerate(zip(songs.starts(hop_frames), songs.limits(per_song), strict=True)):
        if limit is not None and len(starts) > limit:
            starts = rng.choice(starts, size=limit, replace=False)
        pairs_s.append(np.full(len(starts), i))
        pairs_t.append(starts)
    s, t = np.concatenate(pairs_s), np.concatenate(pairs_t)
    order = rng.permutation(len(s))
    return s[order], t[order]


def epoch_batches(
    songs: SongMels, *, hop_frames: int, per_song: int | None, batch_size: int, seed: int
) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Endless batches ``(x, {task: y})``; every pass over the songs draws new segments."""
    rng = np.random.default_rng(seed)
    while True:
        s, t = sample_epoch(songs, hop_frames=hop_frames, per_song=per_song, rng=rng)
        for b in range(0, len(s), batch_size):
            bs, bt = s[b : b + batch_size], t[b : b + batch_size]
            yield songs.gather(bs, bt), {task: y[bs] for task, y in songs.labels.items()}


def steps_per_epoch(songs: SongMels, *, hop_frames: int, per_song: int | None, batch_size: int) -> int:
    starts = songs.starts(hop_frames)
    n = sum(
        min(len(st), cap) if cap else len(st) for st, cap in zip(starts, songs.limits(per_song), strict=True)
    )
    return max(1, -(-n // batch_size))
