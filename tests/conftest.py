"""Fixtures shared by the whole suite: small audio files generated on the fly."""

from __future__ import annotations

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


@pytest.fixture
def audio_file(tmp_path: Path):
    """Factory: ``audio_file("x.flac", seconds=4, sr=44100, channels=2)`` -> path."""

    def make(
        name: str, *, seconds: float = 4.0, sr: int = 16_000, channels: int = 1, freq: float = 440.0
    ) -> Path:
        return write_audio(tmp_path / name, tone(seconds, sr=sr, freq=freq, channels=channels), sr)

    return make
