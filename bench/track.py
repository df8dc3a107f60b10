"""The test track: a real FLAC of about three minutes from the benchmark set, else a synthetic one."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from bench.repo import REPO_ROOT
from training.signals import synthetic_track

TRACKS_DIR = REPO_ROOT / "data" / "benchmarks" / "gamemusic" / "audio"


@dataclass(frozen=True)
class Track:
    path: Path
    duration_s: float
    sample_rate: int
    channels: int
    synthetic: bool

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()

    def describe(self) -> str:
        kind = "synthetic" if self.synthetic else "real"
        name = self.path.name if self.synthetic else str(self.path.relative_to(REPO_ROOT))
        return (
            f"{name} ({kind}; {self.duration_s:.1f} s, {self.sample_rate} Hz, {self.channels} channel(s), "
            f"{self.path.stat().st_size / 1e6:.2f} MB {self.path.suffix.lstrip('.').upper()})"
        )


def pick_track(
    tracks_dir: Path = TRACKS_DIR, *, target_s: float = 180.0, fallback_dir: Path | None = None
) -> Track:
    """The FLAC under ``tracks_dir`` closest to ``target_s`` seconds; else a synthetic one."""
    best: tuple[float, Path, sf._SoundFileInfo] | None = None
    for path in sorted(tracks_dir.rglob("*.flac")) if tracks_dir.is_dir() else []:
        info = sf.info(str(path))
        gap = abs(info.duration - target_s)
        if best is None or gap < best[0]:
            best = (gap, path, info)
    if best is not None and best[0] < 0.1 * target_s:
        _, path, info = best
        return Track(path, info.duration, info.samplerate, info.channels, synthetic=False)
    folder = fallback_dir or Path(tempfile.mkdtemp(prefix="songid-bench-"))
    path = synthetic_track(folder / "synthetic-3min.flac", seconds=target_s)
    info = sf.info(str(path))
    return Track(path, info.duration, info.samplerate, info.channels, synthetic=True)
