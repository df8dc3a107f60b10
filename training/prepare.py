"""Decode every song once and cache its log-mel spectrogram (one .npy per song plus an index).

Resumable: a song whose .npy exists is not decoded again. Undecodable files go to
``failures.csv`` and are skipped; they never stop the job.
"""

from __future__ import annotations

import csv
import logging
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from frontend.audio import AudioDecodeError, load_audio, log_mel
from training.catalog import Song

log = logging.getLogger(__name__)

MELS_DIR = "mels"
INDEX_FILE = "index.csv"
FAILURES_FILE = "failures.csv"


@dataclass(frozen=True)
class PrepareReport:
    cached: int
    computed: int
    failed: dict[str, str]  # path -> reason


def mel_path(cache_dir: Path, song_id: str) -> Path:
    return cache_dir / MELS_DIR / f"{song_id}.npy"


def _compute(path: str, out: str, max_duration_s: float | None) -> int:
    """Worker: decode ``path``, write its log-mel to ``out`` atomically, return the frame count."""
    mel = log_mel(load_audio(path, max_duration_s=max_duration_s))
    tmp = f"{out}.{os.getpid()}.tmp.npy"
    np.save(tmp, mel)
    Path(tmp).replace(out)
    return int(mel.shape[0])


def _write_index(cache_dir: Path, songs: list[Song], frames: dict[str, int]) -> None:
    label_cols = sorted({k for s in songs for k in s.labels})
    with (cache_dir / INDEX_FILE).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["song_id", "path", "group", "n_frames", *label_cols])
        for s in songs:
            if s.song_id in frames:
                labels = [s.labels.get(c, "") for c in label_cols]
                w.writerow([s.song_id, s.path.as_posix(), s.group, frames[s.song_id], *labels])


def prepare(
    songs: list[Song], cache_dir: Path, *, jobs: int = 2, max_duration_s: float | None = None
) -> PrepareReport:
    """Fill ``cache_dir`` with one log-mel per song (shape ``(n_frames, 96)``, float32) and an index.

    Args:
        songs: the catalog.
        cache_dir: created if missing; existing entries are kept (resumable).
        jobs: worker processes.
        max_duration_s: analyse at most this many seconds of each song.
    """
    (cache_dir / MELS_DIR).mkdir(parents=True, exist_ok=True)
    frames: dict[str, int] = {}
    todo = []
    for s in songs:
        out = mel_path(cache_dir, s.song_id)
        if out.is_file():
            frames[s.song_id] = int(np.load(out, mmap_mode="r").shape[0])
        else:
            todo.append(s)
    cached = len(frames)
    failed: dict[str, str] = {}
    if todo:
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {
                pool.submit(_compute, str(s.path), str(mel_path(cache_dir, s.song_id)), max_duration_s): s
                for s in todo
            }
            for fut in tqdm(as_completed(futures), total=len(futures), desc="mel cache", unit="song"):
                s = futures[fut]
                try:
                    frames[s.song_id] = fut.result()
                except (AudioDecodeError, OSError, ValueError) as e:
                    failed[str(s.path)] = str(e)
                    log.warning("skipped %s: %s", s.path, e)
    _write_index(cache_dir, songs, frames)
    with (cache_dir / FAILURES_FILE).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "error"])
        w.writerows(sorted(failed.items()))
    return PrepareReport(cached=cached, computed=len(frames) - cached, failed=failed)


def read_index(cache_dir: Path) -> list[Song]:
    """The songs of a prepared cache (those whose mel exists), with their labels."""
    index = cache_dir / INDEX_FILE
    if not index.is_file():
        raise FileNotFoundError(f"{index}: no mel cache here; run `songid prepare` first")
    songs = []
    with index.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            sid, path, group = row.pop("song_id"), row.pop("path"), row.pop("group")
            row.pop("n_frames")
            songs.append(Song(sid, Path(path), dict(row), group))
    return songs
