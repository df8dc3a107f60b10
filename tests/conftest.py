"""Fixtures shared by the whole suite: small audio files generated on the fly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

FORMATS = {  # extension -> (soundfile format, subtype)
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}


def tone(
    seconds: float, *, sr: int = 16_000, freq: float = 440.0, channels: int = 1, seed: int = 0
) -> np.ndarray:
    """A sine plus a little noise, shape (n,) or (n, channels), float32 in [-0.5, 0.5]."""
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.02 * np.random.default_rng(seed).standard_normal(t.size)
    x = x.astype(np.float32)
    return x if channels == 1 else np.repeat(x[:, None], channels, axis=1)


def write_audio(path: Path, data: np.ndarray, sr: int, fmt: str | None = None) -> Path:
    fmt = fmt or path.suffix.lstrip(".")
    if fmt == "opus":
        sr = 48_000 if sr not in (8_000, 12_000, 16_000, 24_000, 48_000) else sr
    container, subtype = FORMATS[fmt]
    sf.write(path, data, sr, format=container, subtype=subtype)
    return path


def write_catalog(root: Path, *, songs_per_artist: int) -> Path:
    """A tiny catalog in the paper's layout: 2 languages x 3 artists, 7-second songs.

    Artists differ by pitch, and the ``fr`` songs carry a 3 kHz hum, so both tasks are learnable.
    """
    for lang, hum in (("en", 0.0), ("fr", 0.2)):
        for artist, f0 in (("ann", 220.0), ("bo", 440.0), ("cy", 330.0)):
            folder = root / lang / f"{artist}-{lang}"
            folder.mkdir(parents=True)
            for k in range(songs_per_artist):
                x = tone(7.0, freq=f0 * (1 + 0.05 * k), seed=k)
                x += hum * np.sin(2 * np.pi * 3000 * np.arange(x.size) / 16_000).astype(np.float32)
                write_audio(folder / f"s{k}.flac", x, 16_000)
    return root


@pytest.fixture
def audio_file(tmp_path: Path):
    """Factory: ``audio_file("x.flac", seconds=4, sr=44100, channels=2)`` -> path."""

    def make(
        name: str, *, seconds: float = 4.0, sr: int = 16_000, channels: int = 1, freq: float = 440.0
    ) -> Path:
        return write_audio(tmp_path / name, tone(seconds, sr=sr, freq=freq, channels=channels), sr)

    return make


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the whole session (tests/postgres.py); stopped at the end."""
    from tests.postgres import postgres_server

    with postgres_server() as url:
        yield url
